"""The erasure's checkpoint: what the first run found, written before anything changes.

`<data_dir>/erasure/<reference>.json`, written atomically. It holds no personal data:
counts, the keys of the rows whose scope would shift while erasing (the account's
conversations), and keyed hashes of the contacts. A re-run reuses it, so the receipt and
the audit effects report what the first run found, not what was left after a crash.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import datamap
from workflow.executors import ActionContext, PermanentFailure
from workflow.executors.erasure import sql
from workflow.executors.erasure.work import Work
from workflow.exports import safe_reference

CHECKPOINT_DIR = "erasure"


@dataclass
class Plan:
    """What the first run found; stored before any change, reused by every re-run."""

    reference: str
    account_id: Any
    started_at: str
    fixed: dict[str, list[Any]]
    identifier_hashes: list[str]
    erased: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    hold_from: str | None = None
    hold_until: str | None = None
    exports: list[str] = field(default_factory=list)  # earlier export files, deleted


def plan_path(ctx: ActionContext) -> Path:
    try:
        return ctx.data_dir / CHECKPOINT_DIR / f"{safe_reference(ctx.reference)}.json"
    except ValueError:
        raise PermanentFailure("the request reference is not a plain identifier") from None


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def load(path: Path, account_id: Any) -> Plan | None:
    try:
        plan = Plan(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return plan if plan.account_id == account_id else None


def save(path: Path, plan: Plan) -> None:
    write_atomically(path, json.dumps(asdict(plan), indent=2, default=str).encode())


def _count(stmt: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(stmt.subquery())


def as_date(value: Any) -> date:
    """SQLite's MIN() over a timestamp returns text; the others a datetime."""
    if isinstance(value, datetime | date):
        return value
    return datetime.fromisoformat(str(value)).date()


async def make(work: Work, exports: list[str]) -> Plan:
    """Count what there is to erase and keep, fixing the scope of the shifting tables."""
    data_map, ctx = work.data_map, work.ctx
    async with work.sessions() as sessions:
        store = sessions["store"]
        account = work.tables[data_map.account.table]
        exists = await store.scalar(
            select(account.c[data_map.account.key]).where(work.scope().condition(account.name))
        )
        if exists is None:
            raise PermanentFailure("the account no longer exists")
        contacts = await work.contacts(store)
        scope = work.scope(contacts, fixed=None)
        fixed: dict[str, list[Any]] = {}
        for name in data_map.tables:
            if data_map.snapshotted(name):
                (key,) = scope.key(name)
                rows = await sessions[work.where(name)].execute(
                    select(key).where(scope.condition(name)).order_by(key)
                )
                fixed[name] = [row[0] for row in rows]
        plan = Plan(
            reference=ctx.reference,
            account_id=ctx.account_id,
            started_at=ctx.now().isoformat(),
            fixed=fixed,
            identifier_hashes=[datamap.keyed_hash(ctx.secret, v) for v in contacts],
            exports=exports,
        )
        scope = work.scope(contacts, fixed=fixed)
        for name in data_map.tables:
            await _count_table(work, sessions[work.where(name)], scope, plan, name)
        await _hold_dates(work, store, scope, plan)
    return plan


async def _count_table(
    work: Work, session: AsyncSession, scope: Any, plan: Plan, name: str
) -> None:
    data_map = work.data_map
    table = work.tables[name]
    in_scope = select(*scope.key(name)).where(scope.condition(name))
    if name == data_map.account.table:
        plan.erased[name] = 1
        return
    if data_map.deletes_rows(name):
        plan.erased[name] = int(await session.scalar(_count(in_scope)) or 0)
    else:
        pending = sql.pending_any(data_map, name, table, work.ctx.now(), work.dialect(name))
        if pending is not None:
            plan.erased[name] = int(await session.scalar(_count(in_scope.where(pending))) or 0)
    if any(c.kept_by_law for c in data_map.personal(name)):
        plan.kept[name] = int(await session.scalar(_count(in_scope)) or 0)


async def _hold_dates(work: Work, session: AsyncSession, scope: Any, plan: Plan) -> None:
    held = work.data_map.legal_hold()
    if held is None:
        return
    name, hold = held
    column = work.tables[name].c[hold.counted_from]
    first, last = (
        await session.execute(
            select(func.min(column), func.max(column)).where(scope.condition(name))
        )
    ).one()
    if first is not None and last is not None:
        plan.hold_from = work.data_map.legal_hold_until(as_date(first)).isoformat()
        plan.hold_until = work.data_map.legal_hold_until(as_date(last)).isoformat()
