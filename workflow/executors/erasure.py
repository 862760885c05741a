"""Right to erasure (Art. 17): erase the account by the data map's strategies.

How it stays correct across crashes:
- A plan is written first (`<data_dir>/erasure/<reference>.json`, atomically): the
  counts per step, the account's conversations and keyed hashes of its contacts. It
  holds no personal data. A re-run reuses it, so the receipt and the audit effects
  report what the first run found, not what was left after a crash.
- Each step works in batches of at most `BATCH` rows, one transaction each: id ranges
  cut from one pass over the step's rows, each changing only the rows of its range
  that are not yet erased, so a repeated batch is a no-op and a re-run resumes by
  walking the ranges again. A last look erases rows added meanwhile.
- The people rows (the account's email and phone) are deleted LAST, in one
  transaction with the account's closing and a scan of every text column of every
  table for those values. If any remains outside what the law keeps, the transaction
  rolls back and the action fails for a retry; the identifiers are still there, so
  the retry knows what to look for. "Done" is therefore only ever committed together
  with its proof.
- The receipt is written to a temporary file and renamed, like the exports.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Select,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import (
    cast as sa_cast,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement

from locales import _, format_date, ngettext, use
from storage import datamap
from storage.datamap import MASK, REDACTED, REVOKED_PREFIX, Strategy
from storage.identifier_scan import scan_for_identifiers
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Conversation,
    Invoice,
    InvoiceLine,
    OutboxMessage,
    Payment,
    Person,
    SmsMessage,
    TranscriptMessage,
    VerificationCode,
)
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure
from workflow.exports import exports_dir, safe_reference, signed_link

BATCH = 10_000
CHECKPOINT_DIR = "erasure"


class ErasureIncomplete(Exception):
    """Identifiers remain after all steps; the action is retried. Names columns, not values."""


def after_batch(step: str, rows: int) -> None:
    """Called after every committed batch. Tests replace it to simulate a crash."""


# --- the plan (checkpoint) -------------------------------------------------------------


@dataclass
class Plan:
    """What the first run found; stored before any change, reused by every re-run."""

    reference: str
    account_id: int
    started_at: str
    conversations: list[str]
    identifier_hashes: list[str]
    erased: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    hold_from: str | None = None
    hold_until: str | None = None


def _plan_path(ctx: ActionContext) -> Path:
    try:
        return ctx.data_dir / CHECKPOINT_DIR / f"{safe_reference(ctx.reference)}.json"
    except ValueError:
        raise PermanentFailure("the request reference is not a plain identifier") from None


def _write_atomically(path: Path, data: bytes) -> None:
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


def _load_plan(path: Path, account_id: int) -> Plan | None:
    try:
        plan = Plan(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return plan if plan.account_id == account_id else None


async def _contacts(session: AsyncSession, account_id: int) -> list[str]:
    rows = await session.execute(
        select(Person.email, Person.phone).where(Person.account_id == account_id)
    )
    return sorted({value for row in rows for value in row if value})


def _count(stmt: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(stmt.subquery())


async def _make_plan(ctx: ActionContext) -> Plan:
    async with ctx.db.transaction() as session:
        if await session.get(Account, ctx.account_id) is None:
            raise PermanentFailure("the account no longer exists")
        contacts = await _contacts(session, ctx.account_id)
        conversations = await _conversations(session, ctx.account_id, contacts)
        plan = Plan(
            reference=ctx.reference,
            account_id=ctx.account_id,
            started_at=ctx.now().isoformat(),
            conversations=conversations,
            identifier_hashes=[datamap.keyed_hash(ctx.secret, v) for v in contacts],
        )
        pending = [(s.name, s.pending(ctx, plan, contacts)) for s in STEPS] + [
            (c.name, c.pending(ctx, plan, contacts)) for c in CUSTOM if c.counted
        ]
        for name, stmt in pending:
            plan.erased[name] = int(await session.scalar(_count(stmt)) or 0)
        plan.erased["people"] = len(
            (await session.execute(select(Person.id).where(Person.account_id == ctx.account_id)))
            .scalars()
            .all()
        )
        invoices = select(Invoice.id).where(Invoice.account_id == ctx.account_id)
        plan.kept = {
            "invoices": int(await session.scalar(_count(invoices)) or 0),
            "invoice_lines": int(
                await session.scalar(
                    _count(select(InvoiceLine.id).where(InvoiceLine.invoice_id.in_(invoices)))
                )
                or 0
            ),
            "payments": int(
                await session.scalar(
                    _count(select(Payment.id).where(Payment.invoice_id.in_(invoices)))
                )
                or 0
            ),
        }
        first, last = (
            await session.execute(
                select(func.min(Invoice.issued_at), func.max(Invoice.issued_at)).where(
                    Invoice.account_id == ctx.account_id
                )
            )
        ).one()
    if first is not None and last is not None:
        plan.hold_from = datamap.legal_hold_until(_as_date(first)).isoformat()
        plan.hold_until = datamap.legal_hold_until(_as_date(last)).isoformat()
    return plan


def _as_date(value: Any) -> date:
    """SQLite's MIN() over a timestamp returns text; PostgreSQL a datetime."""
    if isinstance(value, datetime | date):
        return value
    return datetime.fromisoformat(str(value)).date()


async def _conversations(session: AsyncSession, account_id: int, contacts: list[str]) -> list[str]:
    """The account's conversations: linked to it, sent one of its codes, or naming its contacts."""
    linked = select(Conversation.id).where(Conversation.account_id == account_id)
    coded = select(VerificationCode.conversation_id).where(
        VerificationCode.account_id == account_id
    )
    found = set((await session.execute(linked.union(coded))).scalars())
    if contacts:
        mentioned = select(TranscriptMessage.conversation_id).where(
            or_(*(TranscriptMessage.text.icontains(v, autoescape=True) for v in contacts))
        )
        found.update((await session.execute(mentioned.distinct())).scalars())
    return sorted(found)


# --- strategies as SQL ------------------------------------------------------------------


def _masked(col: ColumnElement[str]) -> ColumnElement[str]:
    """All but the last 4 characters, then XXXX; the same on SQLite and PostgreSQL."""
    length = func.length(col)
    return case(
        (length > 4, type_coerce(func.substr(col, 1, length - 4), String) + MASK),
        else_=literal(MASK),
    )


def sql_erasure(model: type[DeclarativeBase]) -> tuple[dict[str, Any], ColumnElement[bool]]:
    """SET values and the "not yet erased" condition for a table erased in place.

    Built from the data map, so a strategy changed there changes what is done here.
    Revocation and withdrawal need values per row and have their own steps.
    """
    table = cast(Table, model.__table__)
    values: dict[str, Any] = {}
    pending: list[ColumnElement[bool]] = []
    for entry in datamap.fields(table.name):
        col = table.c[entry.column]
        if entry.erasure is Strategy.NULL:
            # SQL NULL, also for JSON (None would store JSON 'null', which stays "pending")
            values[entry.column] = null() if isinstance(col.type, JSON) else None
            pending.append(col.is_not(None))
        elif entry.erasure is Strategy.REDACT:
            values[entry.column] = REDACTED
            pending.append(col != REDACTED)
        elif entry.erasure is Strategy.MASK_LAST4:
            values[entry.column] = _masked(col)
            pending.append(not_(col.like(f"%{MASK}")))
        elif entry.erasure is Strategy.RESET:
            values[entry.column] = {}
            pending.append(sa_cast(col, Text) != "{}")
        elif entry.erasure in (Strategy.DELETE, Strategy.HASH):
            raise ValueError(f"{table.name}.{entry.column}: {entry.erasure.value} is not SQL")
    return values, or_(*pending)


def _row_deleted(model: type[DeclarativeBase]) -> None:
    """Refuse to delete rows of a table the data map does not say to delete."""
    table = cast(Table, model.__table__).name
    if any(f.erasure is not Strategy.DELETE for f in datamap.fields(table)):
        raise ValueError(f"the data map does not delete rows of {table}")


# --- the steps ------------------------------------------------------------------------


Scope = Callable[[ActionContext, Plan, list[str]], ColumnElement[bool]]


@dataclass(frozen=True)
class Step:
    """One category of rows, erased in batches by `model`'s data-map strategies."""

    name: str
    model: type[DeclarativeBase]
    scope: Scope
    extra: Callable[[ActionContext], dict[str, Any]] = lambda _ctx: {}
    delete_rows: bool = False

    def pending(self, ctx: ActionContext, plan: Plan, contacts: list[str]) -> Select[Any]:
        """The ids of rows still to erase."""
        table = cast(Table, self.model.__table__)
        stmt = select(table.c.id).where(self.scope(ctx, plan, contacts))
        if not self.delete_rows:
            _values, condition = sql_erasure(self.model)
            stmt = stmt.where(condition)
        return stmt

    async def bounds(
        self, session: AsyncSession, ctx: ActionContext, plan: Plan, contacts: list[str]
    ) -> list[Any]:
        """The ids that end each batch: every BATCH-th id in scope, and the last one.

        Taken from the scope's index alone (erased or not), in one pass: each batch is
        then the range up to its bound, changed as `id > previous AND id <= bound` plus
        the pending condition, instead of a list of 10,000 ids chosen by rescanning the
        rows earlier batches already erased. A range holds at most BATCH rows (bar any
        committed into it since, which PostgreSQL's sequences allow).
        """
        table = cast(Table, self.model.__table__)
        scope = self.scope(ctx, plan, contacts)
        numbered = (
            select(table.c.id, func.row_number().over(order_by=table.c.id).label("n"))
            .where(scope)
            .subquery()
        )
        ends = list(
            (
                await session.execute(
                    select(numbered.c.id).where(numbered.c.n % BATCH == 0).order_by(numbered.c.id)
                )
            ).scalars()
        )
        last = await session.scalar(select(func.max(table.c.id)).where(scope))
        if last is not None and (not ends or last > ends[-1]):
            ends.append(last)
        return ends

    async def anything_pending(
        self,
        session: AsyncSession,
        ctx: ActionContext,
        plan: Plan,
        contacts: list[str],
        after: Any,
    ) -> bool:
        """Whether a row still needs erasing after a round whose last bound was `after`.

        SQLite has one writer at a time and gives a new row the highest id yet, so rows
        added meanwhile lie after the last bound. PostgreSQL's sequences hand out ids
        before commit, so a row committed late can lie inside a range already done:
        there the look covers every row in scope.
        """
        table = cast(Table, self.model.__table__)
        stmt = self.pending(ctx, plan, contacts)
        if after is not None and not ctx.db.is_postgres:
            stmt = stmt.where(table.c.id > after)
        return await session.scalar(stmt.limit(1)) is not None

    async def batch(
        self,
        session: AsyncSession,
        ctx: ActionContext,
        plan: Plan,
        contacts: list[str],
        after: Any,
        last: Any,
    ) -> int:
        """Erase the pending rows with `after < id <= last` (from the start when `after` is
        None): at most BATCH of them, as `bounds` chose the range."""
        table = cast(Table, self.model.__table__)
        scope = [self.scope(ctx, plan, contacts), table.c.id <= last]
        if after is not None:
            scope.append(table.c.id > after)
        if self.delete_rows:
            _row_deleted(self.model)
            stmt: Any = delete(self.model).where(*scope)
        else:
            values, condition = sql_erasure(self.model)
            stmt = (
                update(self.model).where(*scope, condition).values({**values, **self.extra(ctx)})  # noqa: S610 - not Django
            )
        result = await session.execute(stmt.execution_options(synchronize_session=False))
        return int(cast(CursorResult[Any], result).rowcount)


def _account_rows(column: Any) -> Scope:
    return lambda ctx, _plan, _contacts: cast(ColumnElement[bool], column == ctx.account_id)


def _invoices_of(ctx: ActionContext) -> Select[Any]:
    return select(Invoice.id).where(Invoice.account_id == ctx.account_id)


STEPS: tuple[Step, ...] = (
    Step(
        "sms_messages",
        SmsMessage,
        _account_rows(SmsMessage.account_id),
        extra=lambda ctx: {"anonymised_at": func.coalesce(SmsMessage.anonymised_at, ctx.now())},
    ),
    Step("access_log", AccessLogEntry, _account_rows(AccessLogEntry.account_id), delete_rows=True),
    Step(
        "transcript_messages",
        TranscriptMessage,
        lambda _ctx, plan, _c: TranscriptMessage.conversation_id.in_(plan.conversations),
        extra=lambda _ctx: {"buttons": None},
    ),
    Step(
        "conversations",
        Conversation,
        lambda _ctx, plan, _c: Conversation.id.in_(plan.conversations),
        # a Core update must bump the version, or a web process holding the row in
        # memory would save its stale copy (and the account link) over ours
        extra=lambda _ctx: {"version": Conversation.version + 1},
    ),
    Step(
        "verification_codes",
        VerificationCode,
        _account_rows(VerificationCode.account_id),
        delete_rows=True,
    ),
    Step(
        "outbox_messages",
        OutboxMessage,
        lambda _ctx, _plan, contacts: OutboxMessage.to.in_(
            sorted({*contacts, *(c.lower() for c in contacts)})
        ),
        delete_rows=True,
    ),
    Step("invoices", Invoice, _account_rows(Invoice.account_id)),
    Step("payments", Payment, lambda ctx, _p, _c: Payment.invoice_id.in_(_invoices_of(ctx))),
)


async def _hold_invoices(session: AsyncSession, ctx: ActionContext) -> int:
    """Set each invoice's legal hold date (from its own issue year) where missing."""
    rows = (
        await session.execute(
            select(Invoice.id, Invoice.issued_at)
            .where(Invoice.account_id == ctx.account_id, Invoice.legal_hold_until.is_(None))
            .order_by(Invoice.id)
            .limit(BATCH)
        )
    ).all()
    if rows:
        await session.execute(
            update(Invoice),
            [{"id": i, "legal_hold_until": datamap.legal_hold_until(at)} for i, at in rows],
        )
    return len(rows)


async def _revoke_keys(session: AsyncSession, ctx: ActionContext) -> int:
    """Revoke and make unmatchable: the hash becomes a hash of random bytes, marked."""
    assert datamap.strategy("api_keys", "key_hash") is Strategy.REVOKE
    rows = (
        await session.execute(
            select(ApiKey.id, ApiKey.revoked_at)
            .where(
                ApiKey.account_id == ctx.account_id,
                not_(ApiKey.key_hash.startswith(REVOKED_PREFIX, autoescape=True)),
            )
            .order_by(ApiKey.id)
            .limit(BATCH)
        )
    ).all()
    if rows:
        label, _condition = sql_erasure(ApiKey)
        await session.execute(
            update(ApiKey),
            [
                {
                    "id": key_id,
                    "key_hash": REVOKED_PREFIX
                    + hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                    "revoked_at": revoked_at or ctx.now(),
                    **label,
                }
                for key_id, revoked_at in rows
            ],
        )
    return len(rows)


def _keys_pending(ctx: ActionContext, _plan: Plan, _contacts: list[str]) -> Select[Any]:
    return select(ApiKey.id).where(
        ApiKey.account_id == ctx.account_id,
        not_(ApiKey.key_hash.startswith(REVOKED_PREFIX, autoescape=True)),
    )


async def _withdraw_consents(session: AsyncSession, ctx: ActionContext) -> int:
    assert datamap.strategy("consents", "granted") is Strategy.WITHDRAW
    result = await session.execute(
        update(Consent)
        .where(
            Consent.account_id == ctx.account_id,
            or_(Consent.granted.is_(True), Consent.source != "erasure"),
        )
        .values(granted=False, source="erasure", updated_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount)


def _consents_pending(ctx: ActionContext, _plan: Plan, _contacts: list[str]) -> Select[Any]:
    return select(Consent.id).where(
        Consent.account_id == ctx.account_id,
        or_(Consent.granted.is_(True), Consent.source != "erasure"),
    )


@dataclass(frozen=True)
class _Custom:
    """A step whose values are not plain SQL (random per row, or a date per row)."""

    name: str
    pending: Callable[[ActionContext, Plan, list[str]], Select[Any]]
    run: Callable[[AsyncSession, ActionContext], Awaitable[int]]
    counted: bool = True  # False: part of what is kept, not of what is erased


CUSTOM: tuple[_Custom, ...] = (
    _Custom("api_keys", _keys_pending, _revoke_keys),
    _Custom("consents", _consents_pending, _withdraw_consents),
    _Custom(
        "invoice_holds",
        lambda ctx, _p, _c: select(Invoice.id).where(
            Invoice.account_id == ctx.account_id, Invoice.legal_hold_until.is_(None)
        ),
        _hold_invoices,
        counted=False,
    ),
)


async def _run_batches(ctx: ActionContext, plan: Plan) -> None:
    for step in STEPS:
        # One round over the ranges, then a look for anything still pending (rows
        # added or committed behind a range meanwhile), which normally finds nothing.
        after: Any = None
        for round_ in range(3):
            async with ctx.db.transaction() as session:
                contacts = await _contacts(session, ctx.account_id)
                if round_ and not await step.anything_pending(session, ctx, plan, contacts, after):
                    break
                bounds = await step.bounds(session, ctx, plan, contacts)
            after = None
            for last in bounds:
                async with ctx.db.transaction() as session:
                    contacts = await _contacts(session, ctx.account_id)
                    done = await step.batch(session, ctx, plan, contacts, after, last)
                after_batch(step.name, done)
                after = last
    for custom in CUSTOM:
        while True:
            async with ctx.db.transaction() as session:
                done = await custom.run(session, ctx)
            after_batch(custom.name, done)
            if done < BATCH:
                break


async def _finish(ctx: ActionContext) -> None:
    """Delete the people and close the account, committed only together with a clean scan."""
    _row_deleted(Person)
    async with ctx.db.transaction() as session:
        account = await session.get(Account, ctx.account_id, with_for_update=True)
        if account is None:
            raise PermanentFailure("the account no longer exists")
        contacts = await _contacts(session, ctx.account_id)
        await session.execute(
            delete(Person)
            .where(Person.account_id == ctx.account_id)
            .execution_options(synchronize_session=False)
        )
        values, _condition = sql_erasure(Account)
        for column, value in values.items():
            setattr(account, column, value)
        account.status = "closed"
        account.closed_at = account.closed_at or ctx.now()
        if contacts:
            await session.flush()
            found = await scan_for_identifiers(
                session, contacts, exclude=sorted(datamap.legal_hold_columns())
            )
            if found:
                where = ", ".join(f"{table}.{column}" for table, column in found)
                raise ErasureIncomplete(f"contact details remain in {where}")


# --- the receipt ----------------------------------------------------------------------

_HOW = {
    "sms_messages": ("recipient", "message_content"),
    "access_log": ("network",),
    "transcript_messages": ("chat",),
    "conversations": ("chat",),
    "verification_codes": ("authentication",),
    "outbox_messages": ("authentication",),
    "invoices": ("contact",),
    "payments": ("payment",),
    "api_keys": ("credentials",),
    "consents": ("consent",),
    "people": ("identity", "contact"),
}


def _how(step: str) -> str:
    return {
        "sms_messages": _("content erased, sender removed, recipient's last 4 digits masked"),
        "access_log": _("deleted"),
        "transcript_messages": _("text erased"),
        "conversations": _("unlinked from your account"),
        "verification_codes": _("deleted"),
        "outbox_messages": _("deleted"),
        "invoices": _("billing email address erased"),
        "payments": _("card's last 4 digits erased"),
        "api_keys": _("revoked; can never be used again"),
        "consents": _("withdrawn"),
        "people": _("name, email address and phone number deleted"),
    }[step]


def receipt_text(ctx: ActionContext, plan: Plan) -> str:
    """What was erased, what is kept, why and until when, in the current language."""
    lines = [
        _("Erasure receipt for request {reference}").format(reference=ctx.reference),
        _("Your account has been erased and closed on {date}.").format(
            date=format_date(datetime.fromisoformat(plan.started_at))
        ),
        "",
        _("What we erased:"),
    ]
    for step, count in plan.erased.items():
        labels = ", ".join(_(datamap.CATEGORIES[key].label) for key in _HOW[step])
        records = ngettext("{n} record", "{n} records", count).format(n=count)
        lines.append(f"  - {labels}: {_how(step)} ({records})")
    lines += ["", _("What we keep, and why:")]
    if plan.kept.get("invoices") and plan.hold_until:
        lines.append(
            "  - "
            + _(
                "{invoices} invoices with {lines} invoice lines and {payments} payments, which "
                "the Danish Bookkeeping Act requires us to keep for 5 years from the end of the "
                "financial year. Each is kept until 31 December five years after the year it "
                "was issued ({first} for the oldest, {last} for the newest) and then erased."
            ).format(
                invoices=plan.kept["invoices"],
                lines=plan.kept.get("invoice_lines", 0),
                payments=plan.kept.get("payments", 0),
                first=format_date(date.fromisoformat(plan.hold_from or plan.hold_until)),
                last=format_date(date.fromisoformat(plan.hold_until)),
            )
        )
        lines.append(
            "    "
            + _(
                "Only what the law needs is kept: invoice number, dates, amounts, VAT number, "
                "and the company's billing name and address."
            )
        )
    else:
        lines.append("  - " + _("No invoices: nothing is kept under the Bookkeeping Act."))
    lines.append(
        "  - "
        + _(
            "A record of your SMS traffic (time and status, without content, sender or full "
            "recipient number), which is anonymous data."
        )
    )
    lines.append(
        "  - "
        + _(
            "A record that this request was made and carried out, without your contact "
            "details, as proof that we handled it."
        )
    )
    lines += [
        "",
        _(
            "You can complain to the Danish Data Protection Agency (Datatilsynet), "
            "www.datatilsynet.dk."
        ),
    ]
    return "\n".join(lines) + "\n"


def _write_receipt(ctx: ActionContext, plan: Plan) -> str:
    filename = f"{plan.reference}-erasure-receipt.txt"
    path = exports_dir(ctx.data_dir) / filename
    if not path.exists():
        with use(ctx.language):
            _write_atomically(path, receipt_text(ctx, plan).encode("utf-8"))
    return filename


# --- the executor ---------------------------------------------------------------------


async def run(ctx: ActionContext) -> ExecutorResult:
    path = _plan_path(ctx)
    plan = _load_plan(path, ctx.account_id)
    if plan is None:
        plan = await _make_plan(ctx)
        _write_atomically(path, json.dumps(asdict(plan), indent=2).encode())
    await _run_batches(ctx, plan)
    await _finish(ctx)
    receipt = _write_receipt(ctx, plan)
    link = signed_link(ctx.secret, ctx.public_url, plan.reference, receipt, ctx.now())
    return ExecutorResult(
        effects={
            "erased": plan.erased,
            "kept": plan.kept,
            "legal_hold_until": plan.hold_until,
            "files": [receipt],
        },
        notice={"receipt_url": link["download_url"], "expires_at": link["expires_at"]},
    )
