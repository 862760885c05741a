"""The context a handler works in: one customer turn of one conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.state import DialogState
from handlers.types import Button, Incoming, Link, Reply, Understanding
from storage.models import Conversation
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class Services:
    """What handlers may use besides the database session, injected by the runtime."""

    secret: bytes
    public_url: str = "http://127.0.0.1:8080"
    demo: bool = False
    clock: Callable[[], datetime] = utcnow
    docs_url: str = "https://gatewayapi.com/docs/"
    support_email: str = "support@gatewayapi.com"


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

    @property
    def language(self) -> str:
        return self.conversation.locale or "en"

    @property
    def text(self) -> str:
        return self.incoming.text or ""

    def say(self, text: str, buttons: tuple[Button, ...] = (), link: Link | None = None) -> None:
        self.replies.append(Reply(text=text, buttons=buttons, link=link))

    def now(self) -> datetime:
        return self.services.clock()
