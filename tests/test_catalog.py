"""The Danish catalog is complete and in step with the code (checked in CI)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import locales

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "workflow", "storage", "locales")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[
                ("**.py", "python"),
                ("datamap/*.yaml", "storage.datamap.extract:extract_datamap"),
            ],
            keywords=KEYWORDS,
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with (ROOT / "locales" / "da" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="da")


@pytest.fixture(scope="module")
def source() -> set[str]:
    return _source_messages()


def test_every_string_in_the_code_has_a_danish_translation(
    catalog: Catalog, source: set[str]
) -> None:
    missing = sorted(m for m in source if not catalog.get(m) or not catalog.get(m).string)
    assert missing == [], (
        "run `pybabel extract`/`update` (see README) and translate:\n" + "\n".join(missing)
    )


def test_catalog_has_no_fuzzy_or_obsolete_entries(catalog: Catalog, source: set[str]) -> None:
    fuzzy = sorted(str(m.id) for m in catalog if m.id and m.fuzzy)
    stale = sorted(
        str(m.id)
        for m in catalog
        if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in source
    )
    assert fuzzy == [] and stale == [], f"fuzzy: {fuzzy}\nnot in the code any more: {stale}"


def test_translations_keep_every_placeholder(catalog: Catalog) -> None:
    broken = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[0]))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            broken.append(ids[0])
    assert broken == []


def test_danish_is_used_at_run_time() -> None:
    with locales.use("da"):
        assert locales._("Cancel") == "Annuller"
        assert locales.format_date(date(2026, 11, 25)) == "25. november 2026"
    with locales.use("en"):
        assert locales._("Cancel") == "Cancel"
        assert locales.format_date(date(2026, 11, 25)) == "25 November 2026"
