"""The Art. 30 record of processing activities, as a report section.

The rows come from the data map's own record (`storage.datamap.record`), the same
declaration the executors act on, so the report and the code cannot disagree.
"""

from __future__ import annotations

from locales import _
from storage import datamap
from storage.datamap import record


def columns() -> list[str]:
    return [
        _("Category"),
        _("Role"),
        _("Where"),
        _("Purposes"),
        _("Legal bases"),
        _("Recipients"),
        _("Retention"),
        _("Erasure"),
    ]


def rows() -> list[list[str]]:
    """One row per category of personal data, in the map's order, in the current language."""
    return [record.cells(row) for row in record.rows(datamap.current())]
