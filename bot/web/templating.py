"""Jinja2 templates for every server-rendered page: the console, the demo outbox, the chat
page and the DPO report.

One environment recipe for the web app (through aiohttp-jinja2) and for the CLI's report:
autoescape on (a value from the database or an agent's typed reason can never become
markup), and Jinja's i18n extension wired to the project's catalog, so `{{ _("…") }}`,
`{{ ngettext(…) }}` and `{% trans %}` in a template read `locales/da/…/messages.po` in
the language of the surrounding `locales.use(...)` block. Placeholders in templates are
Jinja's new-style `%(name)s`; `pybabel extract` finds them through babel.cfg.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

import locales
from bot import agent_labels
from workflow.lifecycle import Status

TEMPLATES = Path(__file__).resolve().parent / "templates"
EMPTY = "—"


def _date(value: date | datetime | None, fmt: str = "medium") -> str:
    return locales.format_date(value, fmt) if value is not None else EMPTY


def _datetime(value: datetime | None, fmt: str = "short") -> str:
    return locales.format_datetime(value, fmt) if value is not None else EMPTY


def _number(value: int | float) -> str:
    return locales.format_number(value)


def _audit_data(data: Mapping[str, Any] | None) -> str:
    """An audit entry's data as `key=value, …` (strings bare, the rest as JSON)."""
    return ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
        for k, v in sorted((data or {}).items())
    )


def _gettext(message: str) -> str:
    return locales._(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return locales.ngettext(singular, plural, n)


def configure(env: jinja2.Environment) -> jinja2.Environment:
    """The catalog's gettext, the locale-aware filters, the agent labels and the request
    statuses (`Status`, so templates compare with members, not strings), on `env`."""
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    env.filters.update(date=_date, datetime=_datetime, number=_number, audit_data=_audit_data)
    env.globals.update(labels=agent_labels, LANGUAGES=agent_labels.LANGUAGES, Status=Status)
    return env


def _options() -> dict[str, Any]:
    return {
        "loader": jinja2.FileSystemLoader(TEMPLATES),
        "autoescape": True,
        "extensions": ["jinja2.ext.i18n"],
        "trim_blocks": True,
        "lstrip_blocks": True,
        "undefined": jinja2.StrictUndefined,
    }


@cache
def environment() -> jinja2.Environment:
    """The environment for rendering outside a web request (the CLI's report)."""
    return configure(jinja2.Environment(**_options()))  # noqa: S701 - autoescape is on


def render(name: str, **context: Any) -> str:
    """`name` rendered in the current language (call inside `locales.use(...)`)."""
    return environment().get_template(name).render(**context)


def setup(app: web.Application) -> None:
    """aiohttp-jinja2 on `app`; sub-applications find it through `request.config_dict`."""
    configure(aiohttp_jinja2.setup(app, default_helpers=False, **_options()))


def render_page(request: web.Request, name: str, context: dict[str, Any]) -> str:
    """A page for `request` (call inside `locales.use(...)`)."""
    return aiohttp_jinja2.render_string(name, request, context)
