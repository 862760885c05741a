"""Who sent messages to a number: the accounts a recipient's request goes to.

Only messages still inside the retention window can be traced: after `WINDOW` the last
four digits of the recipient number are anonymised, and the number no longer matches.
The company is named only where the account allows it; otherwise a recipient hears only
the sender names they saw on the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap import SMS_RETENTION_DAYS
from storage.models import Account, SmsMessage
from workflow.referral_numbers import normalise

WINDOW = timedelta(days=SMS_RETENTION_DAYS)  # the retention sweep's window


@dataclass(frozen=True, slots=True)
class Sender:
    """One account that sent messages to the number within the retention window."""

    account_id: int
    sender_names: tuple[str, ...]  # what the recipient saw as the sender (name or number)
    company: str | None  # only when the account lets us name it to recipients
    reachable: bool  # an open account; a closed one cannot receive the request
    last_sent_at: datetime


_SHOWN = func.coalesce(SmsMessage.sender_name, SmsMessage.sender_number)
# Built once: a lookup binds its values only (building the statement cost as much as
# running it). The recipient index (migration 0009) serves the WHERE clause.
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
    Account.id, Account.company, Account.status, Account.name_shown_to_recipients
).where(Account.id.in_(bindparam("ids", expanding=True)))


async def senders_for_number(session: AsyncSession, e164: str, now: datetime) -> list[Sender]:
    """The accounts that sent messages to `e164` within the window, newest first."""
    number = normalise(e164)
    rows = (
        await session.execute(_MESSAGES, {"number": number, "since": now - WINDOW, "now": now})
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
    accounts = {
        row.id: row for row in (await session.execute(_ACCOUNTS, {"ids": list(names)})).all()
    }
    found = []
    for account_id in names:
        account = accounts.get(account_id)
        found.append(
            Sender(
                account_id=account_id,
                sender_names=tuple(sorted(names[account_id])),
                company=account.company if account and account.name_shown_to_recipients else None,
                reachable=account is not None and account.status == "active",
                last_sent_at=latest[account_id],
            )
        )
    return sorted(found, key=lambda s: (s.last_sent_at, s.account_id), reverse=True)


def shown_company(account: Account | None) -> str | None:
    """The company's name where the account lets us tell recipients, else None."""
    return account.company if account is not None and account.name_shown_to_recipients else None
