"""Right to erasure (Art. 17): erase the account by the data map's strategies.

How it stays correct across crashes (and across two databases, when the account store
is not the bot's own: no transaction spans both):
- A plan is written first (`plan.py`): counts, the keys of the rows whose scope would
  shift, keyed hashes of the contacts. A re-run reuses it.
- Each table is erased in batches, one transaction each (`steps.py`, `custom.py`);
  every batch changes only rows not yet erased, so a repeated batch is a no-op.
- The account's contacts are deleted LAST, together with the account's closing and a
  scan for the contact values (`finish.py`). A crash after that commit and before the
  worker records the result re-runs into a no-op and the same receipt.
- Copy first: while a copy of the account's data (access, portability) is ready and not
  yet downloaded, the erasure waits (`workflow.copy_first`), then the earlier export
  files of the account are deleted and their links stop working.
- The receipt (`receipt.py`) is written to a temporary file and renamed.
"""

from __future__ import annotations

from sqlalchemy import select

from storage import datamap
from storage.privacy_models import PrivacyRequest
from workflow import copy_first
from workflow.executors import ActionContext, Deferred, ExecutorResult, recipients
from workflow.executors.erasure import plan as plans
from workflow.executors.erasure import steps
from workflow.executors.erasure.finish import ErasureIncomplete, close_account
from workflow.executors.erasure.plan import Plan
from workflow.executors.erasure.receipt import receipt_text
from workflow.executors.erasure.work import Work
from workflow.exports import account_exports, exports_dir, signed_link

__all__ = ["ErasureIncomplete", "Plan", "receipt_text", "run"]


async def _run_batches(work: Work, plan: Plan) -> None:
    async with work.store.sessions() as session:
        contacts = await work.contacts(session)
    await steps.run_all(work, contacts)


def _write_receipt(
    ctx: ActionContext, plan: Plan, data_map: datamap.DataMap, told: list[str]
) -> str:
    from locales import use

    filename = f"{plan.reference}-erasure-receipt.txt"
    path = exports_dir(ctx.data_dir) / filename
    if not path.exists():
        with use(ctx.language):
            plans.write_atomically(path, receipt_text(ctx, plan, data_map, told).encode("utf-8"))
    return filename


def outcome_contacts(contacts: list[str]) -> dict[str, str]:
    """The addresses the outcome notice can still reach once the contacts are erased:
    the first email and the first phone number among the account's contact values."""
    found: dict[str, str] = {}
    for value in contacts:
        route = "email" if "@" in value else "sms" if value.lstrip("+").isdigit() else None
        if route is not None:
            found.setdefault(route, value)
    return found


async def _wait_for_copies(ctx: ActionContext) -> None:
    """Raise Deferred while the customer has a copy to fetch that the erasure would delete."""
    now = ctx.now()
    async with ctx.db.sessions() as session:
        due_at = await session.scalar(
            select(PrivacyRequest.due_at).where(PrivacyRequest.id == ctx.request_id)
        )
        unfetched = await copy_first.unfetched_copies(session, ctx.data_dir, ctx.account_id, now)
    until = copy_first.erasure_waits_until(unfetched, due_at or now, now)
    if until is not None:
        raise Deferred(until, f"{len(unfetched)} copy(ies) ready and not downloaded yet")


async def run(ctx: ActionContext) -> ExecutorResult:
    data_map = datamap.current()
    path = plans.plan_path(ctx)
    plan = plans.load(path, ctx.account_id)
    if plan is None:
        await _wait_for_copies(ctx)
    work = await Work.start(ctx, data_map)
    if plan is None:
        async with ctx.db.sessions() as session:
            exports = await account_exports(session, ctx.data_dir, ctx.account_id, ctx.reference)
        plan = await plans.make(work, [p.name for p in exports])
        plans.save(path, plan)
    for name in plan.exports:  # the files go before anything else: their links die with them
        (exports_dir(ctx.data_dir) / name).unlink(missing_ok=True)
    async with ctx.db.transaction() as session:
        await copy_first.forget_downloads(session, plan.exports)
    work.fixed = plan.fixed
    await _run_batches(work, plan)
    async with work.store.sessions() as session:
        contacts = await work.contacts(session)
    await close_account(work, contacts)
    categories = [
        c
        for c in data_map.category_keys()
        if any(plan.erased.get(col.table) for col in data_map.personal() if col.spec.category == c)
    ]
    told = await recipients.notify(ctx, data_map, categories)
    receipt = _write_receipt(ctx, plan, data_map, told)
    link = signed_link(ctx.secret, ctx.public_url, plan.reference, receipt, ctx.now())
    return ExecutorResult(
        effects={
            "erased": plan.erased,
            "kept": plan.kept,
            "legal_hold_until": plan.hold_until,
            "exports_deleted": len(plan.exports),
            "recipients_told": told,
            "files": [receipt],
        },
        notice={"receipt_url": link["download_url"], "expires_at": link["expires_at"]},
        contacts=outcome_contacts(contacts),
    )
