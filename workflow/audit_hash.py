"""What an audit entry's hash covers: the canonical JSON of its fields and the previous
entry's hash (shared by the appends in Python and the one-statement appends in SQL)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.privacy_models import AuditEntry

GENESIS = "0" * 64  # the previous hash of the chain's first entry


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry to append: what its author says (the chain adds id, time and hashes).
    `data` is kept as the database will hand it back (`as_stored`), copied when the entry
    is made: the hash covers exactly that, and the caller's dict may change later."""

    actor: str
    event: str
    request_id: int | None
    data: dict[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", as_stored(self.data))


def canonical(
    entry_id: int,
    at: datetime,
    actor: str,
    event: str,
    request_id: int | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """The exact bytes the hash covers; stable across backends and key order."""
    return json.dumps(
        {
            "id": entry_id,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "event": event,
            "request_id": request_id,
            "data": data,
            "prev_hash": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def entry_hash(entry: AuditEntry) -> str:
    payload = canonical(
        entry.id,
        entry.at,
        entry.actor,
        entry.event,
        entry.request_id,
        entry.data,
        entry.prev_hash,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """`data` after a JSON round trip: the hash covers exactly what the database hands back."""
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def canonical_around(
    at: datetime, actor: str, event: str, request_id: int | None, data: dict[str, Any]
) -> tuple[str, str]:
    """`canonical` of an entry as the text before its id and the text after its previous
    hash: `before + str(id) + ',"prev_hash":"' + prev_hash + after` is `canonical`."""
    head = canonical(0, at, actor, event, request_id, data, GENESIS)
    marker = f',"id":0,"prev_hash":"{GENESIS}'
    cut = head.rindex(marker)  # only `"request_id"` follows it
    return head[: cut + len(',"id":')], head[cut + len(marker) :]
