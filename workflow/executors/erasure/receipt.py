"""The erasure receipt: what was erased, what is kept and why, derived from the data map.

One line per category (a category whose data lay in several tables appears once), in
the customer's language, with the records counted by the plan.
"""

from __future__ import annotations

from datetime import date, datetime

from locales import _, format_date, ngettext
from storage.datamap import DataMap, Strategy
from workflow.executors import ActionContext
from workflow.executors.erasure.plan import Plan


def _how(strategy: Strategy) -> str | None:
    return {
        Strategy.DELETE: _("deleted"),
        Strategy.NULL: _("erased"),
        Strategy.REDACT: _("erased"),
        Strategy.RESET: _("erased"),
        Strategy.MASK_LAST4: _("the last 4 digits masked"),
        Strategy.HASH: _("replaced by a code that cannot be turned back"),
        Strategy.REVOKE: _("revoked; can never be used again"),
        Strategy.WITHDRAW: _("withdrawn"),
    }.get(strategy)


def erased_lines(data_map: DataMap, plan: Plan) -> list[str]:
    """One line per category with something erased: what was done, how many records."""
    lines = []
    for category in data_map.category_keys():
        columns = [
            c
            for c in data_map.personal()
            if c.spec.category == category and plan.erased.get(c.table)
        ]
        hows = list(dict.fromkeys(h for c in columns if (h := _how(c.erasure)) is not None))
        if not hows:
            continue
        count = sum(plan.erased[t] for t in dict.fromkeys(c.table for c in columns))
        records = ngettext("{n} record", "{n} records", count).format(n=count)
        lines.append(f"  - {data_map.label(category)}: {', '.join(hows)} ({records})")
    return lines


def _kept_lines(data_map: DataMap, plan: Plan) -> list[str]:
    held = data_map.legal_hold()
    kept = {t: n for t, n in plan.kept.items() if n}
    if held is None or not kept or not plan.hold_until:
        return ["  - " + _("Nothing is kept under a law that requires us to keep records.")]
    name, hold = held
    categories = list(dict.fromkeys(c.spec.category for c in data_map.personal() if c.kept_by_law))
    first = date.fromisoformat(plan.hold_from or plan.hold_until)
    last = date.fromisoformat(plan.hold_until)
    until = (
        _("until {date}").format(date=format_date(last))
        if first == last
        else _("until {first} for the oldest and {last} for the newest").format(
            first=format_date(first), last=format_date(last)
        )
    )
    from storage.datamap import text

    return [
        "  - "
        + _(
            "{records}, which {law} requires us to keep for {years} years from the end of the "
            "financial year. Each is kept until 31 December {years} years after the year it "
            "was issued ({until}) and then erased."
        ).format(
            records=", ".join(
                ngettext("{n} record", "{n} records", n).format(n=n)
                + f" ({data_map.export_name(t)})"
                for t, n in kept.items()
            ),
            law=text(hold.law),
            years=hold.years,
            until=until,
        ),
        "    "
        + _("Only what the law needs is kept: {categories}.").format(
            categories="; ".join(data_map.label(c) for c in categories if c)
        ),
    ]
    del name


def receipt_text(
    ctx: ActionContext, plan: Plan, data_map: DataMap, recipients: list[str] | None = None
) -> str:
    """What was erased, what is kept, why and until when, in the current language."""
    lines = [
        _("Erasure receipt for request {reference}").format(reference=ctx.reference),
        _("Your account was erased and closed on {date}.").format(
            date=format_date(datetime.fromisoformat(plan.started_at))
        ),
        "",
        _("What we erased:"),
        *erased_lines(data_map, plan),
    ]
    if plan.exports:
        lines.append(
            "  - "
            + ngettext(
                "{n} copy of your data that we had prepared for you earlier: deleted; "
                "its download link no longer works",
                "{n} copies of your data that we had prepared for you earlier: deleted; "
                "their download links no longer work",
                len(plan.exports),
            ).format(n=len(plan.exports))
        )
    lines += ["", _("What we keep, and why:"), *_kept_lines(data_map, plan)]
    lines.append(
        "  - "
        + _(
            "Records that no longer say anything about you (for example the time and status "
            "of each SMS, without content, sender or full recipient number), which are "
            "anonymous data."
        )
    )
    lines.append(
        "  - "
        + _(
            "A record that this request was made and carried out, without your contact "
            "details, as proof that we handled it."
        )
    )
    if recipients:
        lines += [
            "",
            _("We have told these recipients of your data about the erasure:"),
            *(f"  - {name}" for name in recipients),
        ]
    lines += [
        "",
        _(
            "You can complain to the Danish Data Protection Agency (Datatilsynet), "
            "www.datatilsynet.dk."
        ),
    ]
    return "\n".join(lines) + "\n"
