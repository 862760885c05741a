"""Wiring: settings in, one database, one router and the background tasks out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.conversation import ConversationRouter
from bot.notifier import Notifier
from bot.tasks import BackgroundTasks
from bot.understanding import recognise
from handlers.turn import Services
from storage import account_store, datamap
from storage.db import Database
from storage.types import utcnow
from workflow.approvals import ApprovalPolicy


def configure_workflow(settings: Settings) -> None:
    """Process-wide workflow settings: the data map. Every process calls this once at start
    (the approval policy is not process-wide: `Services.policy` carries it)."""
    datamap.configure(settings.datamap_path)


@dataclass
class Runtime:
    """Everything a web or worker process shares; built once at start."""

    settings: Settings
    db: Database
    router: ConversationRouter
    services: Services
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)

    @classmethod
    def build(cls, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> Runtime:
        """`clock` is injectable so tests move time forward instead of sleeping."""
        configure_workflow(settings)
        db = settings.database()
        public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
        services = Services(
            secret=settings.secret(),
            public_url=public_url.rstrip("/"),
            demo=settings.demo,
            clock=clock,
            policy=ApprovalPolicy.from_settings(settings),
        )
        tasks = BackgroundTasks()
        # A turn that queued a one-time code kicks a send in the background (none in demo).
        notifier = Notifier.from_settings(settings, db, tasks, clock)
        router = ConversationRouter(db, services, recognise, on_outbound=notifier.kick)
        return cls(settings, db, router, services, tasks)

    async def close(self) -> None:
        await self.tasks.close()
        await account_store.close(self.db)
        await self.db.dispose()
