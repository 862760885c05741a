"""The one masking implementation: the last 4 characters become XXXX.

The same rule in Python (for documents and tests) and as SQL for each backend, so the
erasure, the retention sweep and anything else that masks agree to the character.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, case, func, literal, type_coerce
from sqlalchemy.sql.elements import ColumnElement

MASK = "XXXX"


def mask_last4(value: str) -> str:
    """Keep all but the last 4 characters; those become XXXX (idempotent)."""
    return value[:-4] + MASK if len(value) > 4 else MASK


def masked_sql(column: Any, dialect: str) -> ColumnElement[str]:
    """SQL for `mask_last4(column)`. MySQL's length() counts bytes, so char_length there."""
    length = func.char_length(column) if dialect in ("mysql", "mariadb") else func.length(column)
    return case(
        (length > 4, type_coerce(func.substr(column, 1, length - 4), String) + MASK),
        else_=literal(MASK),
    )


def is_masked_sql(column: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = column.like(f"%{MASK}")
    return result
