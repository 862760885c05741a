"""Logging setup with redaction: no email address, phone number, code or working link
reaches a log line.

- Messages and exception texts are redacted: emails, phone numbers, six-digit codes,
  URLs that carry a token (signed download links, anything with a long token in its
  path or a credential in its query), `/downloads/<token>` paths, Slack and Telegram
  bot tokens.
- A database error's own message can quote row values (asyncpg: "invalid input for
  query argument $1: '<the customer's text>'"), so for exceptions from the database
  libraries only the type and SQLSTATE are kept; the traceback's frames stay.
- Third-party loggers that trace requests with their bodies (Slack SDK, aiohttp,
  asyncpg, SQLAlchemy, aiogram…) stay at WARNING unless LIBRARY_LOG_LEVEL asks for
  more: redaction cannot know that a message text holds a company's name.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>|`]+")
_TOKENISH = re.compile(r"[A-Za-z0-9_~.=%-]{20,}")
_CREDENTIAL_PARAM = re.compile(r"(?i)(?:^|[&;])[^=&]*(token|sig|signature|key|secret|code|auth)")
_PATTERNS = (
    (re.compile(r"/downloads/[^\s\"'<>|`?#]+"), "/downloads/[token]"),
    (re.compile(r"\bbot\d{3,}:[A-Za-z0-9_-]{10,}"), "bot[token]"),
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), "[slack-token]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w])\+?\d[\d ()-]{6,}\d"), "[phone]"),
    (re.compile(r"(?<!\d)\d{6}(?!\d)"), "[code]"),
)
_DATABASE_LIBRARIES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "storage.sqlite_driver")
LIBRARY_LOGGERS = (
    "aiosqlite",
    "sqlalchemy",
    "asyncpg",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
    "slack_sdk",
    "slack_bolt",
    "aiogram",
    "aiosmtplib",
)


def _url(match: re.Match[str]) -> str:
    url = match.group(0)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[url]"
    if (
        _TOKENISH.search(parts.path)
        or _TOKENISH.search(parts.query)
        or (parts.query and _CREDENTIAL_PARAM.search(parts.query))
    ):
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}/[redacted]"
    return url


def redact(text: str) -> str:
    text = _URL.sub(_url, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _from_database(exc: BaseException) -> bool:
    return type(exc).__module__.startswith(_DATABASE_LIBRARIES)


def _summary(exc: BaseException) -> str:
    """`Type: message`, without the message for a database error (type and SQLSTATE)."""
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if _from_database(exc):
        state = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(
            exc, "sqlstate", None
        )
        return f"{name} (SQLSTATE {state})" if isinstance(state, str) else name
    message = str(exc)
    return f"{name}: {message}" if message else name


def format_exception(exc: BaseException) -> str:
    """The traceback of `exc` and its causes, as Python prints it, minus database
    errors' messages (they can quote the statement's values)."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, "The above exception was the direct cause"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, "During handling of the above exception"
        else:
            current = None
    parts: list[str] = []
    for error, _link in reversed(chain):
        frames = "".join(traceback.format_tb(error.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{_summary(error)}")
    joins = [link for _error, link in chain[1:]]
    text = parts[0]
    for joined, part in zip(reversed(joins), parts[1:], strict=True):
        text += f"\n\n{joined} of the following exception:\n\n{part}"
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line, message and exception text redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = redact(format_exception(record.exc_info[1]))
        return json.dumps(entry, ensure_ascii=False)

    def formatException(
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        return redact(format_exception(ei[1])) if ei[1] is not None else ""


def configure(level: str = "INFO", library_level: str = "WARNING") -> None:
    """JSON lines on stderr at `level`; third-party loggers at `library_level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level)


def _lost_connection(exc: BaseException | None) -> bool:
    return isinstance(exc, OSError | TimeoutError) or (
        exc is not None and type(exc).__module__.startswith(_DATABASE_LIBRARIES)
    )


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Retrieve the exception of a future nobody awaited because its connection was lost
    (the driver's, during a cancellation): one WARNING line instead of a traceback at
    ERROR. Everything else goes to asyncio's default handler."""
    exc = context.get("exception")
    if "never retrieved" in str(context.get("message", "")) and _lost_connection(exc):
        logging.getLogger("bot.connections").warning(
            "a database connection was lost while a request on it was abandoned: %s",
            type(exc).__name__,
        )
        return
    loop.default_exception_handler(context)


def handle_lost_connections(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """Install `_loop_exception` on the running (or given) event loop."""
    (loop or asyncio.get_running_loop()).set_exception_handler(_loop_exception)
