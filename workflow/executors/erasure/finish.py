"""The last step: the account's contacts deleted and the account closed, with proof.

The rows that hold the account's own contact values (the map's identifier columns) are
erased LAST, in one transaction of the account store with the account's closing and a
scan of every text column of every table for those values. If any remains outside
what the law keeps, the transaction rolls back and the action fails for a retry; the
identifiers are still there, so the retry knows what to look for. "Done" is therefore
only ever committed together with its proof.

With a separate account store the bot's own database is scanned first (no transaction
spans both databases); its rows were all erased by the earlier steps.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.identifier_scan import scan_for_identifiers
from workflow.executors import PermanentFailure
from workflow.executors.erasure import sql
from workflow.executors.erasure.steps import RangeStep
from workflow.executors.erasure.work import Work


class ErasureIncomplete(Exception):
    """Identifiers remain after all steps; the action is retried. Names columns, not values."""


def after_finish() -> None:
    """Called once the store's transaction committed. Tests replace it to simulate a crash."""


async def _scan(session: AsyncSession, work: Work, contacts: list[str]) -> None:
    found = await scan_for_identifiers(
        session, contacts, exclude=sorted(work.data_map.legal_hold_columns())
    )
    if found:
        where = ", ".join(f"{table}.{column}" for table, column in found)
        raise ErasureIncomplete(f"contact details remain in {where}")


def _close_values(work: Work) -> dict[str, Any]:
    account = work.data_map.account
    table = work.tables[account.table]
    now = work.ctx.now()
    values: dict[str, Any] = {}
    for column, spec in account.close.items():
        if spec == "now":
            values[column] = now
        elif spec == "now_if_null":
            from sqlalchemy import func

            values[column] = func.coalesce(table.c[column], now)
        else:
            values[column] = spec
    return values


async def close_account(work: Work, contacts: list[str]) -> None:
    data_map = work.data_map
    name = data_map.account.table
    table = work.tables[name]
    if work.separate and contacts:
        async with work.ctx.db.sessions() as session:
            await _scan(session, work, contacts)
    async with work.store.transaction() as session:
        me = table.c[data_map.account.key] == work.ctx.account_id
        row = (await session.execute(select(table).where(me).with_for_update())).first()
        if row is None:
            raise PermanentFailure("the account no longer exists")
        contacts = sorted({*contacts, *await work.contacts(session)})
        for holder in data_map.identifier_tables():
            step = RangeStep(holder, work, contacts)
            stmt = step.pending()
            if stmt is None:
                continue
            keys = [k for k in (await session.execute(stmt)).all()]
            if keys:
                await step.batch(session, None, max(tuple(k) for k in keys))
        values, _pending = sql.in_place(data_map, name, table, work.ctx.now(), work.dialect(name))
        values.update(_close_values(work))
        if values:
            await session.execute(
                update(table).where(me).values(values),
                execution_options={"synchronize_session": False},
            )
        if contacts:
            await session.flush()
            await _scan(session, work, contacts)
    after_finish()
