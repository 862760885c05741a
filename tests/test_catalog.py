"""The Danish catalog is complete and in step with the code and the templates (checked in CI).

Extraction reads babel.cfg, the file the README's `pybabel extract` uses, so a template
or module that pybabel would miss is missed here too, and the test says so.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import locales

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "workflow", "storage", "locales")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# {name} in Python's str.format; %(name)s in templates (Jinja's new-style gettext)
PLACEHOLDER = re.compile(r"\{(\w+)\}|%\((\w+)\)[sd]")


def _method_map() -> list[tuple[str, str]]:
    """The [method: pattern] sections of babel.cfg, as pybabel reads them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, _options = parse_mapping_cfg(handle)
    return method_map


def _source_messages() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=_method_map(), keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_extraction_reads_the_templates_and_the_chat_page_strings(source: set[str]) -> None:
    templates = sorted((ROOT / "bot" / "web" / "templates").rglob("*.html"))
    assert templates, "no templates found"
    assert "Signed in as %(name)s" in source  # agent/page.html
    assert "Demo outbox" in source  # dev/outbox.html
    assert "Write a message…" in source  # the chat page's script (bot/web/chat_page.py)


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
        wanted = _placeholders(ids[0])
        if any(_placeholders(s) != wanted for s in strings):
            broken.append(ids[0])
    assert broken == []


def _placeholders(text: str) -> set[str]:
    return {brace or percent for brace, percent in PLACEHOLDER.findall(text)}


def test_danish_is_used_at_run_time() -> None:
    with locales.use("da"):
        assert locales._("Cancel") == "Annuller"
        assert locales.format_date(date(2026, 11, 25)) == "25. november 2026"
    with locales.use("en"):
        assert locales._("Cancel") == "Cancel"
        assert locales.format_date(date(2026, 11, 25)) == "25 November 2026"
