"""A tiny HTML builder that escapes by construction.

Pages are built from `el(name, attrs, *children)` calls: every plain `str` child and
every attribute value is escaped; only `Markup` (what `el` itself returns) passes
through unchanged. No template language, no `| safe`, so personal data or an agent's
typed reason can never become markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping

VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


class Markup(str):
    """Text that is already HTML: it is inserted as it is."""

    __slots__ = ()


Child = str | Markup | int | None | Iterable["Child"]
Attrs = Mapping[str, str | int | bool | None]


def escape(value: object) -> Markup:
    """`value` as HTML text (quotes escaped too, so it is safe in attributes)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def _children(children: Iterable[Child]) -> str:
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int):
            parts.append(escape(child))
        else:
            parts.append(_children(child))
    return "".join(parts)


def _attrs(attrs: Attrs | None) -> str:
    if not attrs:
        return ""
    out: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        if value is True:
            out.append(f" {key}")
        else:
            out.append(f' {key}="{escape(value)}"')
    return "".join(out)


def el(name: str, attrs: Attrs | None = None, *children: Child) -> Markup:
    """`<name attrs>children</name>`; void elements take no children."""
    if name in VOID:
        return Markup(f"<{name}{_attrs(attrs)}>")
    return Markup(f"<{name}{_attrs(attrs)}>{_children(children)}</{name}>")


def fragment(*children: Child) -> Markup:
    """Several children as one piece of markup."""
    return Markup(_children(children))


def document(lang: str, head: Iterable[Child], body: Iterable[Child]) -> str:
    """A complete HTML5 document."""
    return (
        "<!doctype html>\n"
        + el("html", {"lang": lang}, el("head", None, *head), el("body", None, *body))
        + "\n"
    )
