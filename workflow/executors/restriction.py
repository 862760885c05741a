"""Restriction of processing (Art. 18): flag the account, or lift the flag.

Idempotent: setting a flag that is already set changes nothing (the first
`restricted_at` is kept), so a re-run after a crash is harmless.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Account
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure


async def run(ctx: ActionContext) -> ExecutorResult:
    lift = bool(ctx.details.get("lift"))
    async with ctx.db.transaction() as session:
        account = (
            await session.execute(select(Account).where(Account.id == ctx.account_id))
        ).scalar_one_or_none()
        if account is None:
            raise PermanentFailure("the account no longer exists")
        changed = account.restricted == lift
        if lift:
            account.restricted, account.restricted_at = False, None
        elif changed:
            account.restricted, account.restricted_at = True, ctx.now()
    return ExecutorResult(
        effects={"restricted": not lift, "changed": changed},
        notice={"lifted": lift},
    )
