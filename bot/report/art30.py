"""The Art. 30 record of processing activities, as a report section.

For now the rows come from `storage.datamap` (the map the executors use); a generated
record of processing activities from the data-map file can replace `rows()` alone: the
report only needs column names and rows of text.
"""

from __future__ import annotations

from locales import _
from storage import datamap


def columns() -> list[str]:
    return [
        _("Category"),
        _("Role"),
        _("Purposes"),
        _("Legal bases"),
        _("Retention"),
        _("Erasure"),
    ]


def rows() -> list[list[str]]:
    """One row per category of personal data, in the map's order, in the current language."""
    found = []
    for category in datamap.categories():
        fields = [f for f in datamap.DATA_MAP if f.category == category.key]
        found.append(
            [
                _(category.label),
                ", ".join(dict.fromkeys(str(f.role) for f in fields)),
                "; ".join(dict.fromkeys(_(f.purpose) for f in fields)),
                "; ".join(dict.fromkeys(f.legal_basis for f in fields)),
                _(category.retention),
                ", ".join(dict.fromkeys(str(f.erasure) for f in fields)),
            ]
        )
    return found
