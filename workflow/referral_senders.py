"""Who sent messages to a number: the accounts a recipient's request goes to.

Only messages still inside the retention window can be traced: after the data map's
SMS retention rule (`window()`, 30 days in the built-in map) the last four digits of the
recipient number are anonymised, and the number no longer matches.
The company is named only where the account allows it; otherwise a recipient hears only
the sender names they saw on the messages. Messages and accounts are read in the account
store (`storage.account_store.reading`: the bot's own database, or ACCOUNT_STORE_URL when it
holds the built-in schema).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import account_store, datamap
from storage.models import Account, SmsMessage
from workflow.referral_numbers import normalise


def window() -> timedelta:
    """How far back a number can be traced: the retention sweep's window, from the map."""
    return timedelta(days=datamap.sms_retention_days())


@dataclass(frozen=True, slots=True)
class Sender:
    """One account that sent messages to the number within the retention window."""

    account_id: int
    sender_names: tuple[str, ...]  # what the recipient saw as the sender (name or number)
    company: str | None  # only when the account lets us name it to recipients
    reachable: bool  # an open account; a closed one cannot receive the request
    last_sent_at: datetime


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What referrals need to know of a sending account (its processor settings)."""

    company: str | None
    status: str
    name_shown_to_recipients: bool
    honours_recipient_stop: bool

    @property
    def shown_company(self) -> str | None:
        """The company's name where the account lets us tell recipients, else None."""
        return self.company if self.name_shown_to_recipients else None

    @property
    def reachable(self) -> bool:
        return self.status == "active"


_SHOWN = func.coalesce(SmsMessage.sender_name, SmsMessage.sender_number)
# Built once: a lookup binds its values only (building the statement cost as much as
# running it). The recipient index (migration 0009, `indexes` in the data map) serves
# the WHERE clause.
_MESSAGES = (
    select(SmsMessage.account_id, _SHOWN, func.max(SmsMessage.sent_at))
    .where(
        SmsMessage.recipient == bindparam("number"),
        SmsMessage.sent_at >= bindparam("since"),
        SmsMessage.sent_at <= bindparam("now"),
        SmsMessage.anonymised_at.is_(None),
    )
    .group_by(SmsMessage.account_id, _SHOWN)
)
# A second statement rather than a join: SQLite would plan the join from the accounts
# side and walk every account's recent messages instead of the recipient index.
_ACCOUNTS = select(
    Account.id,
    Account.company,
    Account.status,
    Account.name_shown_to_recipients,
    Account.honours_recipient_stop,
).where(Account.id.in_(bindparam("ids", expanding=True)))


async def _facts(store: AsyncSession, ids: list[int]) -> dict[int, AccountFacts]:
    rows = (await store.execute(_ACCOUNTS, {"ids": ids})).all()
    return {int(row[0]): AccountFacts(*row[1:]) for row in rows}


async def accounts(session: AsyncSession, ids: Iterable[int]) -> dict[int, AccountFacts]:
    """The accounts with these ids that exist (`session`: a bot database session)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    async with account_store.reading(session) as store:
        return await _facts(store, wanted)


async def senders_for_number(session: AsyncSession, e164: str, now: datetime) -> list[Sender]:
    """The accounts that sent messages to `e164` within the window, newest first."""
    number = normalise(e164)
    async with account_store.reading(session) as store:
        rows = (
            await store.execute(_MESSAGES, {"number": number, "since": now - window(), "now": now})
        ).all()
        if not rows:  # most numbers: one indexed statement, nothing else
            return []
        names: dict[int, set[str]] = {}
        latest: dict[int, datetime] = {}
        for account_id, name, last in rows:
            names.setdefault(account_id, set())
            if name:
                names[account_id].add(name)
            latest[account_id] = max(last, latest.get(account_id, last))
        facts = await _facts(store, list(names))
    found = []
    for account_id in names:
        account = facts.get(account_id)
        found.append(
            Sender(
                account_id=account_id,
                sender_names=tuple(sorted(names[account_id])),
                company=account.shown_company if account else None,
                reachable=account is not None and account.reachable,
                last_sent_at=latest[account_id],
            )
        )
    return sorted(found, key=lambda s: (s.last_sent_at, s.account_id), reverse=True)
