"""`privacybot accounts unlock`: let an account verify by code again before the hour is up.

After ten wrong one-time codes within an hour, an account's codes are paused (the agents
got an alert, the holder a message). When the holder asks a person for help, an agent
who has satisfied themselves of who they are unlocks it here. Audited under the agent's
name; the account is named by a request reference or by an email or phone on it, and
nothing printed shows a contact detail.

Exit codes: 0 unlocked (or was not locked), 1 no such account or request, 2 usage,
3 bad settings, 4 database unavailable.
"""

from __future__ import annotations

import asyncio
import json
import re

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.common import settings_from
from storage.types import utcnow
from workflow import code_guard, identity, lifecycle

EXIT_NOT_FOUND = 1
_REFERENCE = re.compile(r"^[A-Z]{2,4}-[A-Z0-9]{4,12}$")


async def find_account(session: AsyncSession, who: str) -> int | None:
    """The account behind a request reference, or an email address or phone number on it."""
    cleaned = who.strip()
    if _REFERENCE.match(cleaned.upper()):
        try:
            request = await lifecycle.load(session, reference=cleaned.upper(), lock=False)
        except lifecycle.NotFound:
            return None
        return request.account_id
    contact = identity.parse_contact(cleaned)
    if contact is None:
        return None
    person = await identity.find_person(session, contact)
    return person.account_id if person is not None else None


@click.group("accounts")
def accounts() -> None:
    """Customer accounts: unlock verification by code after too many wrong codes."""


@accounts.command("unlock")
@click.argument("who")
@click.option("--agent", required=True, help="Your name (recorded in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def unlock(ctx: click.Context, who: str, agent: str, as_json: bool) -> None:
    """Clear an account's wrong codes. WHO: a request reference (PR-…), or an email
    address or phone number on the account."""
    settings = settings_from(ctx)

    async def go() -> tuple[int, int] | None:
        db = settings.database()
        try:
            async with db.transaction() as session:
                account_id = await find_account(session, who)
                if account_id is None:
                    return None
                actor = f"agent:{agent.strip()}"[:100]
                wrong = await code_guard.unlock(session, account_id, actor=actor, now=utcnow())
                return account_id, wrong
        finally:
            await db.dispose()

    found = asyncio.run(go())
    if found is None:
        click.echo("error: no active account or request matches", err=True)
        ctx.exit(EXIT_NOT_FOUND)
        return
    account_id, wrong = found
    locked = wrong >= code_guard.MAX_WRONG_PER_HOUR
    if as_json:
        click.echo(json.dumps({"account_id": account_id, "was_locked": locked, "wrong": wrong}))
    elif locked:
        click.echo(f"account {account_id}: unlocked ({wrong} wrong codes in the last hour cleared)")
    else:
        click.echo(f"account {account_id}: was not locked ({wrong} wrong codes in the last hour)")
