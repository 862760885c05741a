"""The dialog state: one typed record per conversation, serialised in one place.

Handlers own it. Channels and the router never read its keys; they ask the small
functions at the end of this module (is the dialog waiting for a contact? is the
customer being verified?). Stored as JSON on the conversation row, so it survives
restarts and moves freely between web processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    """Where an open dialog waits for the customer."""

    CONFIRM = "confirm"  # yes/no to the explained request
    IDENTIFY = "identify"  # the contact detail a code is sent to
    CODE = "code"  # the one-time code
    DETAILS = "details"  # a detail of the request; `asking` says which
    CHOOSE = "choose"  # a choice among offered buttons


@dataclass(slots=True)
class Pending:
    """A further right the customer asked for in the same message, handled after this one."""

    kind: str
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class DialogState:
    """Everything the bot remembers between two messages of one conversation."""

    flow: str | None = None  # the open dialog: a right, "status", "cancel", "recipient"
    step: Step | None = None
    asking: str | None = None  # inside DETAILS: which detail the last question asked for
    slots: dict[str, Any] = field(default_factory=dict)  # the request's details so far
    pending: list[Pending] = field(default_factory=list)
    contact: dict[str, str] | None = None  # {"kind", "value"} a login code went to
    language_locked: bool = False
    greeted: bool = False
    offered: dict[str, str] = field(default_factory=dict)  # last buttons: value -> label
    last_reference: str | None = None  # the request opened last in this chat
    # a message whose intent was unclear: what it said, kept while the customer picks
    # among the offered choices, so its details are not lost
    held: dict[str, Any] | None = None
    # an SMS recipient's number, proved by a code: {"number", "until"} (ISO time)
    recipient: dict[str, str] | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> DialogState:
        """Read a stored state; unknown or malformed keys fall back to their defaults."""
        data = dict(raw or {})
        step = data.get("step")
        pending = data.get("pending") or []
        contact = data.get("contact")
        return cls(
            flow=_str(data.get("flow")),
            step=Step(step) if isinstance(step, str) and step in Step._value2member_map_ else None,
            asking=_str(data.get("asking")),
            slots=dict(data["slots"]) if isinstance(data.get("slots"), dict) else {},
            pending=[
                Pending(str(p["kind"]), dict(p.get("slots") or {}))
                for p in pending
                if isinstance(p, dict) and isinstance(p.get("kind"), str)
            ],
            contact=(
                {"kind": str(contact["kind"]), "value": str(contact["value"])}
                if isinstance(contact, dict) and {"kind", "value"} <= contact.keys()
                else None
            ),
            language_locked=bool(data.get("language_locked")),
            greeted=bool(data.get("greeted")),
            offered={str(k): str(v) for k, v in (data.get("offered") or {}).items()}
            if isinstance(data.get("offered"), dict)
            else {},
            last_reference=_str(data.get("last_reference")),
            held=dict(data["held"]) if isinstance(data.get("held"), dict) else None,
            recipient=(
                {
                    "number": str(data["recipient"]["number"]),
                    "until": str(data["recipient"]["until"]),
                }
                if isinstance(data.get("recipient"), dict)
                and {"number", "until"} <= data["recipient"].keys()
                else None
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The stored form: plain JSON, defaults left out to keep rows small. Only the
        fields that differ from their defaults are copied (every turn stores the state)."""
        data: dict[str, Any] = {}
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                data[name] = value.value if isinstance(value, Step) else _plain(value)
        return data

    def end(self) -> None:
        """Close the open dialog; what outlives it (language, greeting, buttons) stays."""
        self.flow = None
        self.step = None
        self.asking = None
        self.slots = {}
        self.contact = None

    def start(
        self, flow: str, step: Step | None = None, slots: dict[str, Any] | None = None
    ) -> None:
        self.end()
        self.flow, self.step, self.slots = flow, step, dict(slots or {})


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- what channels may ask about a conversation's dialog ------------------------------


def awaiting_contact(raw: Mapping[str, Any] | None) -> bool:
    """The bot has asked for an email address or phone number to send a code to."""
    return DialogState.from_json(raw).step is Step.IDENTIFY


def verifying(raw: Mapping[str, Any] | None) -> bool:
    """The customer is between giving a contact and typing the code."""
    return DialogState.from_json(raw).step in (Step.IDENTIFY, Step.CODE)


def locked_to_language() -> dict[str, Any]:
    """A new conversation whose language the customer chose explicitly (web chat switch)."""
    return DialogState(language_locked=True).to_json()


def offered_values(raw: Mapping[str, Any] | None) -> frozenset[str]:
    """The values of the buttons under the bot's latest answer (a press of any other is
    stale)."""
    return frozenset(DialogState.from_json(raw).offered)


def _plain(value: Any) -> Any:
    """A deep copy of a state value as plain JSON types (dataclasses become dicts)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Pending):
        return asdict(value)
    return value


_DEFAULTS = {name: getattr(DialogState(), name) for name in DialogState.__dataclass_fields__}
