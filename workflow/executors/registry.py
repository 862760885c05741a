"""Finding the executor for an action kind: `workflow.executors.<kind>.run`.

Tests (and benchmarks) may register extra kinds; a kind is a plain identifier, so a
value from the database can never import an arbitrary module.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

from workflow.executors import Executor, PermanentFailure

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
_registered: dict[str, Executor] = {}
_keeps_open: set[str] = set()


def register(kind: str, executor: Executor, *, keeps_request_open: bool = False) -> None:
    """Use `executor` for `kind` instead of a module (tests, benchmarks)."""
    _registered[kind] = executor
    if keeps_request_open:
        _keeps_open.add(kind)


def unregister(kind: str) -> None:
    _registered.pop(kind, None)
    _keeps_open.discard(kind)


def _module(kind: str) -> ModuleType:
    if not _KIND.match(kind):
        raise PermanentFailure(f"invalid action kind {kind!r}")
    try:
        return importlib.import_module(f"workflow.executors.{kind}")
    except ModuleNotFoundError as exc:
        if exc.name != f"workflow.executors.{kind}":
            raise
        raise PermanentFailure(f"no executor for action kind {kind!r}") from None


def lookup(kind: str) -> Executor:
    if kind in _registered:
        return _registered[kind]
    run: Executor = _module(kind).run
    return run


def keeps_request_open(kind: str) -> bool:
    """True when the executor's success leaves the request open for an agent's answer."""
    if kind in _registered:
        return kind in _keeps_open
    return bool(getattr(_module(kind), "KEEPS_REQUEST_OPEN", False))
