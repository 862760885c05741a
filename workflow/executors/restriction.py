"""Restriction of processing (Art. 18): flag the account, or lift the flag.

The flag's columns are the data map's (`account.restricted`, `account.restricted_at`).
Idempotent: setting a flag that is already set changes nothing (the first
`restricted_at` is kept), so a re-run after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from storage import account_store, datamap
from storage.datamap.tables import store_tables
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure, recipients


async def run(ctx: ActionContext) -> ExecutorResult:
    lift = bool(ctx.details.get("lift"))
    data_map = datamap.current()
    spec = data_map.account
    if spec.restricted is None:
        raise PermanentFailure("the data map names no restriction flag; an agent must act")
    store = account_store.of(ctx.db)
    table = (await store_tables(store, data_map))[spec.table]
    me = table.c[spec.key] == ctx.account_id
    since = table.c[spec.restricted_at] if spec.restricted_at else None
    async with store.transaction() as session:
        row = (
            await session.execute(select(table.c[spec.restricted]).where(me).with_for_update())
        ).first()
        if row is None:
            raise PermanentFailure("the account no longer exists")
        changed = bool(row[0]) == lift
        values: dict[str, Any] = {}
        if lift:
            values = {spec.restricted: False}
            if since is not None:
                values[since.name] = None
        elif changed:
            values = {spec.restricted: True}
            if since is not None:
                values[since.name] = ctx.now()
        if values:
            await session.execute(
                update(table).where(me).values(values),
                execution_options={"synchronize_session": False},
            )
    told = (
        await recipients.notify(ctx, data_map, data_map.category_keys())
        if changed and not lift
        else []
    )
    return ExecutorResult(
        effects={"restricted": not lift, "changed": changed, "recipients_told": told},
        notice={"lifted": lift},
    )
