"""Right of access (Art. 15): a ZIP with a copy of everything held about the account.

Every table of the data map that holds the account's rows becomes a JSON and a CSV file
(`map_sections`), selected by the same scope the erasure uses. `summary.txt` gives the
Art. 15(1) facts (purposes, categories, recipients, retention, source, rights,
automated decisions) in the customer's language, all taken from the data map;
`README.txt` explains the files.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import _, format_date, ngettext, use
from storage import datamap
from storage.datamap import DataMap
from storage.datamap.scope import Scope
from workflow.executors import ActionContext, ExecutorResult
from workflow.executors.export_zip import Section, export
from workflow.executors.map_sections import account_scope, exists, sections

SUPPORT_EMAIL = "support@gatewayapi.com"


def _bullets(items: list[str]) -> list[str]:
    return [f"  - {item}" for item in items]


def _rights() -> list[str]:
    return [
        _("Access: a copy of your data (this export)."),
        _("Rectification: correcting wrong or out-of-date data."),
        _(
            "Erasure: deleting your data, unless another law requires us to keep it "
            "(e.g. the Danish Bookkeeping Act for invoices)."
        ),
        _("Restriction: limiting what we do with your data."),
        _("Portability: your data in a machine-readable format."),
        _(
            "Objection: to marketing, tracking and profiling, and to processing we base on our "
            "legitimate interests."
        ),
        _(
            "Not being subject to a decision based solely on automated processing, "
            "including profiling."
        ),
    ]


async def _facts(session: AsyncSession, scope: Scope) -> tuple[bool, dict[str, bool]]:
    """Whether Google login is used, and the current consents, where the store has them."""
    tables = scope.tables
    account = tables[scope.data_map.account.table]
    google = False
    if "google_subject" in account.c:
        google = (
            await session.scalar(
                select(account.c.google_subject).where(scope.condition(account.name))
            )
        ) is not None
    consents: dict[str, bool] = {}
    table = tables.get("consents")
    if table is not None and {"purpose", "granted"} <= set(table.c.keys()):
        rows = await session.execute(
            select(table.c.purpose, table.c.granted).where(scope.condition("consents"))
        )
        consents = {str(purpose): bool(granted) for purpose, granted in rows}
    return google, consents


def automated_decisions(data_map: DataMap) -> list[str]:
    """What the map declares is decided by automated means, each open to human review."""
    return [datamap.text(d.text) for d in data_map.automated_decisions]


def _decisions(data_map: DataMap, profiling: bool) -> list[str]:
    declared = automated_decisions(data_map)
    lines = (
        [
            _("These decisions can be made about you by automated means:"),
            *_bullets(declared),
            _(
                "You can ask for a person to review any of them (write to us in the chat: "
                '"I want a person to review a decision"); you can give your view and contest '
                "the decision."
            ),
        ]
        if declared
        else [
            _(
                "We make no decisions about you based solely on automated processing that have "
                "legal or similarly significant effects."
            )
        ]
    )
    return [
        *lines,
        _(
            "We use Google Ads, Facebook Ads and LinkedIn tracking for profiling for marketing "
            "and to link website traffic with conversions, when you have consented."
        )
        + " "
        + (
            _("You have currently consented to tracking or profiling.")
            if profiling
            else _("You have not consented to tracking or profiling.")
        ),
    ]


def summary_text(
    ctx: ActionContext,
    data_map: DataMap,
    files: list[Section],
    rows: dict[str, int],
    google: bool,
    consents: dict[str, bool],
) -> str:
    """The Art. 15(1) facts, in the current language."""
    profiling = consents.get("profiling", False) or consents.get("tracking", False)
    present = {c for s in files if rows.get(s.name) for c in s.categories}
    categories = [c for c in data_map.category_keys() if c in present]
    bases = list(dict.fromkeys(data_map.basis_text(p) for p in data_map.purpose_keys()))
    lines = [
        _("Your personal data: answer to your access request {reference}").format(
            reference=ctx.reference
        ),
        _("Prepared on {date} by {controller}.").format(
            date=format_date(ctx.now()), controller=data_map.controller
        ),
        "",
        _("1. Why we process your data (purposes)"),
        *_bullets(list(dict.fromkeys(data_map.purpose_text(p) for p in data_map.purpose_keys()))),
        _("Legal bases: {bases}.").format(bases="; ".join(bases)),
        _(
            "For the SMS messages you send through us we are data processor on your behalf, "
            "under the data processing agreement; you decide what they are used for."
        ),
        "",
        _("2. The categories of data we hold about you"),
        *_bullets(
            [
                _("{category}, in the files: {files}").format(
                    category=data_map.label(c),
                    files=", ".join(
                        f"{s.name}.json" for s in files if c in s.categories and rows[s.name]
                    ),
                )
                for c in categories
            ]
        ),
        "",
        _("3. Who receives your data (recipients)"),
        *_bullets([datamap.text(r.description) for r in data_map.recipients.values()]),
        "",
        _("4. How long we keep your data"),
        *_bullets([f"{data_map.label(c)}: {data_map.retention_text(c)}" for c in categories]),
        "",
        _("5. Where the data comes from"),
        *_bullets(
            [
                _("From you, when you created and used your account."),
                _(
                    "IP address and coarse location are logged when you call the API or chat "
                    "with us."
                ),
            ]
            + (
                [_("Your name and email address came from Google, as you log in with Google.")]
                if google
                else []
            )
        ),
        _("Your data is stored in data centres in the EU."),
        "",
        _("6. Automated decisions and profiling"),
        *_decisions(data_map, profiling),
        "",
        _("7. Your rights"),
        *_bullets(_rights()),
        _("To use a right, write to us in the chat or at {email}.").format(email=SUPPORT_EMAIL),
        "",
        _(
            "You can complain to the Danish Data Protection Agency (Datatilsynet), "
            "www.datatilsynet.dk."
        ),
    ]
    return "\n".join(lines) + "\n"


def readme_text(ctx: ActionContext, rows: dict[str, int]) -> str:
    lines = [
        _("This archive holds a copy of the personal data in your account ({reference}).").format(
            reference=ctx.reference
        ),
        _("Each kind of data is in two files with the same content: JSON and CSV (UTF-8)."),
        _("summary.txt explains why we hold the data, for how long, and your rights."),
        "",
        *(
            f"{name}.json / {name}.csv: " + ngettext("{n} row", "{n} rows", count).format(n=count)
            for name, count in rows.items()
        ),
    ]
    return "\n".join(lines) + "\n"


async def run(ctx: ActionContext) -> ExecutorResult:
    data_map = datamap.current()
    scope = await account_scope(ctx, data_map)
    files = sections(scope)

    async def documents(session: AsyncSession, rows: dict[str, int]) -> dict[str, str]:
        google, consents = await _facts(session, scope)
        with use(ctx.language):
            return {
                "README.txt": readme_text(ctx, rows),
                "summary.txt": summary_text(ctx, data_map, files, rows, google, consents),
            }

    result: Any = await export(ctx, "access", files, documents, exists(scope))
    return result  # type: ignore[no-any-return]
