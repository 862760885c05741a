"""What every `privacybot` command shares: settings, exit codes and running async work.

The main group (`bot.cli`) and every command module import these from here, never from
each other, so the CLI has no import circle. Only the standard library and click are
imported at module level: `privacybot --help` loads no database driver, web framework
or chat SDK.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.config import Settings

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_SETTINGS = 3
EXIT_DATABASE = 4


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Load settings once per command; a bad setting ends the command with exit code 3."""
    from bot.config import SettingsError, load_settings

    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
        raise  # ctx.exit raises; this tells the type checker so


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run one coroutine function to completion in a fresh event loop."""

    async def main() -> T:
        return await coro_fn()

    return asyncio.run(main())


def run_session(
    settings: Settings, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool
) -> T:
    """Run `work` in one session (a transaction when `write`) on a database of its own."""

    async def go() -> T:
        db = settings.database()
        try:
            if write:
                async with db.transaction() as session:
                    return await work(session)
            async with db.sessions() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(go())


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: long-running commands finish their work and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
