"""Objection (Art. 21): withdraw consent for marketing, tracking and/or profiling.

Idempotent: each purpose ends up `granted=False, source="objection"`, whether its
row existed, was already withdrawn, or is created here.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Account, Consent
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure

PURPOSES = ("marketing_email", "tracking", "profiling")


def purposes_of(details: dict[str, object]) -> list[str]:
    """The purposes objected to; all of them when none (or only unknown ones) are named."""
    raw = details.get("purposes")
    named = [p for p in raw if p in PURPOSES] if isinstance(raw, list) else []
    return named or list(PURPOSES)


async def run(ctx: ActionContext) -> ExecutorResult:
    purposes = purposes_of(ctx.details)
    now = ctx.now()
    withdrawn = 0
    async with ctx.db.transaction() as session:
        if await session.scalar(select(Account.id).where(Account.id == ctx.account_id)) is None:
            raise PermanentFailure("the account no longer exists")
        rows = (
            await session.execute(
                select(Consent).where(
                    Consent.account_id == ctx.account_id, Consent.purpose.in_(purposes)
                )
            )
        ).scalars()
        existing = {row.purpose: row for row in rows}
        for purpose in purposes:
            row = existing.get(purpose)
            if row is None:
                session.add(
                    Consent(
                        account_id=ctx.account_id,
                        purpose=purpose,
                        granted=False,
                        source="objection",
                        updated_at=now,
                    )
                )
                continue
            if row.granted:
                withdrawn += 1
            if row.granted or row.source != "objection":
                row.granted, row.source, row.updated_at = False, "objection", now
    return ExecutorResult(
        effects={"purposes": purposes, "consents_withdrawn": withdrawn},
        notice={"purposes": purposes},
    )
