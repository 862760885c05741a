"""Translations and locale-aware formatting, shared by every layer.

English is the source language; `locales/da/LC_MESSAGES/messages.po` is the Danish
catalog. The catalog is compiled in memory on first use, so there is no `.mo` file to
forget to rebuild. The current language lives in a ContextVar: a channel or the worker
sets it once per customer turn (`use("da")`), and `_()` reads it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "en"
CATALOG_DIR = Path(__file__).resolve().parent
_BABEL_LOCALES = {"da": "da_DK", "en": "en_GB"}
_TIMEZONE = "Europe/Copenhagen"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def normalise(language: str | None) -> str:
    """Map 'da-DK', 'en_US', None... to one of LANGUAGES."""
    code = (language or "").replace("_", "-").split("-", 1)[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def language_hint(code: str | None) -> str | None:
    """A platform's locale ('da-DK,da;q=0.9', 'en_US', Telegram's 'da') as one of our
    languages, or None when it names none of them (a hint never overrides the text)."""
    if not code:
        return None
    language = normalise(code)
    return language if code.lower().startswith(language) else None


@cache
def translations(language: str) -> NullTranslations:
    po_path = CATALOG_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def current() -> str:
    return _current.get()


@contextmanager
def use(language: str | None) -> Iterator[str]:
    """Translate and format in `language` inside the block."""
    token = _current.set(normalise(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """Translate `message` into the current language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with the plural form for `n` in the current language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a module-level constant for extraction; translate it later with `_()`."""
    return message


def babel_locale(language: str | None = None) -> Locale:
    return Locale.parse(_BABEL_LOCALES[normalise(language or _current.get())])


def format_date(value: date | datetime, fmt: str = "long") -> str:
    """A date as a person in the current language writes it (25. november 2026)."""
    if isinstance(value, datetime):
        value = value.astimezone(dates.get_timezone(_TIMEZONE)).date()
    return dates.format_date(value, fmt, locale=babel_locale())


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    return dates.format_datetime(
        value, fmt, tzinfo=dates.get_timezone(_TIMEZONE), locale=babel_locale()
    )


def format_number(value: int | float | Decimal) -> str:
    return numbers.format_decimal(value, locale=babel_locale())
