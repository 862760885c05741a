"""The context a handler works in: one customer turn of one conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.state import DialogState
from handlers.types import Button, Incoming, Link, Reply, Understanding
from storage.models import Conversation
from storage.types import utcnow
from workflow.approvals import ApprovalPolicy


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers may use besides the database session, injected by the runtime."""

    secret: bytes
    public_url: str = "http://127.0.0.1:8080"
    demo: bool = False
    clock: Callable[[], datetime] = utcnow
    docs_url: str = "https://gatewayapi.com/docs/"
    support_email: str = "support@gatewayapi.com"
    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)  # from settings at start


@dataclass(frozen=True, slots=True)
class HeldUnderstanding:
    """The details of an earlier message, kept in the dialog state (see `DialogState.held`)."""

    language: str
    intent: str
    confidence: float = 1.0
    alternatives: tuple[tuple[str, float], ...] = ()
    language_request: str | None = None
    topic: str | None = None
    topics: tuple[str, ...] = ()
    act: str | None = None
    rights: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    field: str | None = None
    upset: bool = False
    language_sure: bool = False
    complains: bool = False

    @classmethod
    def keep(cls, text: str, understanding: Understanding) -> dict[str, Any]:
        return {
            "text": text,
            "language": understanding.language,
            "rights": list(understanding.rights),
            "purposes": list(understanding.purposes),
            "field": understanding.field,
        }

    @classmethod
    def from_json(cls, held: dict[str, Any]) -> HeldUnderstanding:
        return cls(
            language=str(held.get("language") or "en"),
            intent="other",
            rights=tuple(str(r) for r in held.get("rights") or ()),
            purposes=tuple(str(p) for p in held.get("purposes") or ()),
            field=held.get("field") if isinstance(held.get("field"), str) else None,
        )


@dataclass(slots=True)
class Turn:
    """One customer message being answered. Handlers add replies and edit `dialog`."""

    conversation: Conversation
    incoming: Incoming
    understanding: Understanding | None
    session: AsyncSession
    services: Services
    dialog: DialogState = field(default_factory=DialogState)
    replies: list[Reply] = field(default_factory=list)
    # an upset customer is told once per turn that we are sorry: in the first reply that
    # reads back a request, else in a reply of its own before the others
    apology_due: bool = False

    @property
    def language(self) -> str:
        return self.conversation.locale or "en"

    @property
    def text(self) -> str:
        return self.incoming.text or ""

    def resume_held(self) -> None:
        """Answer as if the customer had written the unclear message again, now that a
        choice made its intent clear: its details (values, purposes, rights) count."""
        held, self.dialog.held = self.dialog.held, None
        if not held:
            return
        self.incoming = replace(self.incoming, text=str(held.get("text") or ""), button=None)
        self.understanding = HeldUnderstanding.from_json(held)

    def say(self, text: str, buttons: tuple[Button, ...] = (), link: Link | None = None) -> None:
        self.replies.append(Reply(text=text, buttons=buttons, link=link))

    def apologise_first(self, text: str) -> None:
        """Put the apology still due before this turn's replies."""
        if self.apology_due:
            self.apology_due = False
            self.replies.insert(0, Reply(text=text))

    def now(self) -> datetime:
        return self.services.clock()
