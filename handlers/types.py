"""Channel-neutral messages: what every channel turns its input into and renders back.

These types are the contract between the channels and the conversation core, so they
hold plain data only: no Slack blocks, no Telegram keyboards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Button:
    """A button; `value` is stable across channels and languages (`confirm`, `erasure`...)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Link:
    """A download or documentation link shown under a reply."""

    url: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One bot message: text, optional buttons and an optional link."""

    text: str
    buttons: tuple[Button, ...] = ()
    link: Link | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "buttons": [{"label": b.label, "value": b.value} for b in self.buttons],
        }
        if self.link is not None:
            data["link"] = {"url": self.link.url, "label": self.link.label}
        return data


@dataclass(frozen=True, slots=True)
class Incoming:
    """One inbound customer message, already verified and de-duplicated by its channel."""

    channel: str
    external_id: str
    text: str | None = None
    button: str | None = None
    locale_hint: str | None = None
    sender_id: str | None = None
    shared_phone: str | None = None  # a phone number the platform vouches for (Telegram)
    # the sender's own id of this message (web chat): sent again, it is answered from the
    # transcript, not stored twice
    client_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class Understanding(Protocol):
    """What the conversation core knows about a text.

    `intent`: a right (access, portability, rectification, erasure, restriction,
    objection, human_review), status, cancel, handover, greeting, other, or
    `question` (about the privacy policy; `topic` says which, `topics` every one asked
    about, also in a message that asks a question besides a request), `complaint`,
    `recipient` (someone who received an SMS sent through the gateway).
    `act`: what a short reply does in a dialog, whatever the intent: yes, no, thanks,
    bye, no_code ("I didn't get a code"), how_long, what_next, more; None otherwise.
    `rights`: every right the message asks for, in the order named (several at once).
    `purposes`: objection purposes named (marketing_email, tracking, profiling).
    `field`: the detail a correction names (email, phone, name, company, address).
    `upset`: the customer sounds angry or fed up. `language_sure`: the text itself shows
    its language clearly enough to switch a conversation to it. `complains`: the message
    declares a complaint, also beside a request ("… and I want to make a formal complaint").
    """

    @property
    def language(self) -> str: ...
    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def alternatives(self) -> tuple[tuple[str, float], ...]: ...
    @property
    def language_request(self) -> str | None: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def topics(self) -> tuple[str, ...]: ...
    @property
    def act(self) -> str | None: ...
    @property
    def rights(self) -> tuple[str, ...]: ...
    @property
    def purposes(self) -> tuple[str, ...]: ...
    @property
    def field(self) -> str | None: ...
    @property
    def upset(self) -> bool: ...
    @property
    def language_sure(self) -> bool: ...
    @property
    def complains(self) -> bool: ...
