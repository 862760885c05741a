"""The data map: where personal data lives, why, for how long, and how each right treats it.

One declaration (`builtin.yaml` for the built-in account store, or the file named by
DATAMAP_PATH for another; `bot.yaml` for the bot's own tables) from which the access and
portability exports, the erasure, rectification, the retention sweep, the Art. 15
summary, the erasure receipt and the Art. 30 record are all derived, so what the
customer is told and what the code does cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from storage import keys
from storage.datamap.masking import MASK, mask_last4
from storage.datamap.model import DataMap, DataMapError, MappedColumn, RectifiableField, text
from storage.datamap.schema import DataMapFile, Role, Strategy

__all__ = [
    "ANONYMISED",
    "BUILTIN",
    "MASK",
    "REDACTED",
    "REVOKED_PREFIX",
    "DataMap",
    "DataMapError",
    "MappedColumn",
    "RectifiableField",
    "Role",
    "Strategy",
    "configure",
    "current",
    "keyed_hash",
    "load",
    "mask_last4",
    "rectifiable_fields",
    "sms_retention_days",
    "text",
    "using",
]

REDACTED = "[erased]"  # what erasure writes over text
ANONYMISED = "[anonymised]"  # what the retention sweep writes over text
REVOKED_PREFIX = "erased:"
# The retention rule that anonymises message data (the policy's "up to 30 days"): after it
# the recipient number's last 4 digits are masked, so referrals can trace a number only
# inside it.
SMS_TABLE = "sms_messages"
SMS_RETENTION_RULE = "sms_messages_anonymised"
HERE = Path(__file__).resolve().parent
BUILTIN = HERE / "builtin.yaml"
BOT = HERE / "bot.yaml"
# libyaml's parser reads the maps about seven times faster than the pure-Python one
# (4 ms against 30 ms), time every fresh process (a worker, a CLI command) spent at start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_file(path: Path) -> DataMapFile:
    """One map file, validated; DataMapError names what is wrong."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise DataMapError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        return DataMapFile.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise DataMapError(f"{path}:\n  " + "\n  ".join(lines[:20])) from None


def load(path: Path | str | None = None) -> DataMap:
    """The merged map of the account store at `path` (default: the built-in store)."""
    store_path = Path(path) if path else BUILTIN
    return DataMap(read_file(store_path), read_file(BOT), source=str(store_path))


_configured: list[DataMap] = []  # the process's map (at most one)
_current: list[DataMap] = []  # maps in use for a while (`using`), innermost last


def configure(path: Path | str | None) -> DataMap:
    """Load the process's map (DATAMAP_PATH) once at start."""
    loaded = load(path)
    _configured[:] = [loaded]
    return loaded


def current() -> DataMap:
    """The map in use: one given to `using`, else the configured one, else the built-in."""
    if _current:
        return _current[-1]
    if not _configured:
        _configured.append(load())
    return _configured[0]


@contextmanager
def using(data_map: DataMap) -> Iterator[DataMap]:
    """Use `data_map` for a while (tests, a second store in one process)."""
    _current.append(data_map)
    try:
        yield data_map
    finally:
        _current.remove(data_map)


def rectifiable_fields() -> list[RectifiableField]:
    """The fields the customer can have corrected, with labels in the current language."""
    return current().rectifiable_fields()


def sms_retention_days(data_map: DataMap | None = None) -> int:
    """How many days a message keeps its recipient number and content (the map's rule)."""
    return (data_map or current()).rule_days(SMS_TABLE, SMS_RETENTION_RULE)


def legal_hold_until(issued: date | datetime) -> date:
    return current().legal_hold_until(issued)


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256 of a value, for matching without keeping the value."""
    return keys.mac_hex(secret, keys.STORED_VALUE, value)
