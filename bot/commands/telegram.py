"""`privacybot telegram …`: long polling for local development, and the webhook at Telegram.

Exit codes: 0 done, 1 failed (Telegram refused or was unreachable, a setting is missing,
the schema is out of date), 3 bad settings. Nothing printed carries the bot token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import click

from bot.commands.common import settings_from, stop_on_signals
from bot.config import Settings, SettingsError

EXIT_FAILED = 1
EXIT_SETTINGS = 3
T = TypeVar("T")


def _fail(ctx: click.Context, message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    ctx.exit(EXIT_FAILED)


def _why(exc: BaseException) -> str:
    """Telegram's own description when it refused, else the error's type (never a URL,
    which would carry the token)."""
    from aiogram.exceptions import TelegramAPIError

    if isinstance(exc, TelegramAPIError):
        return f"Telegram refused: {exc.message}"
    return f"Telegram is unreachable ({type(exc).__name__})"


def _with_bot(ctx: click.Context, settings: Settings, call: Callable[[Any], Awaitable[T]]) -> T:
    """Run `call(bot)` with a Bot for the settings; a Telegram failure exits 1."""
    from bot.channels.telegram import has_token

    if not has_token(settings):
        _fail(ctx, "set TELEGRAM_BOT_TOKEN")

    from bot.channels.telegram.context import TELEGRAM_ERRORS, make_bot

    async def go() -> T:
        async with make_bot(settings) as bot:
            return await call(bot)

    try:
        return asyncio.run(go())
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    except TELEGRAM_ERRORS as exc:
        _fail(ctx, _why(exc))


@click.group("telegram")
def telegram() -> None:
    """Telegram: long polling for local development, and the webhook registration."""


@telegram.command("poll")
@click.pass_context
def poll(ctx: click.Context) -> None:
    """Serve Telegram by long polling (local development: no public URL needed).

    Removes a registered webhook first (Telegram allows one or the other). Ctrl-C or
    SIGTERM stops it after the update in hand; exit 0.
    """
    from bot import logs
    from bot.channels.telegram import has_token
    from bot.channels.telegram.context import TELEGRAM_ERRORS, Telegram, make_bot
    from bot.channels.telegram.polling import run_polling
    from bot.channels.telegram.turns import DATABASE_ERRORS
    from bot.channels.telegram.updates import Inbound
    from bot.runtime import Runtime
    from storage import migrate

    settings = settings_from(ctx)
    if not has_token(settings):
        _fail(ctx, "set TELEGRAM_BOT_TOKEN (from @BotFather)")

    async def go() -> int:
        logs.configure(settings.log_level, settings.library_log_level)
        bot = make_bot(settings)  # a malformed token ends here, before anything is opened
        runtime = Runtime.build(settings)
        tg = Telegram(runtime, bot)
        try:
            try:
                current = await migrate.schema_is_current(runtime.db)
            except DATABASE_ERRORS as exc:
                click.echo(f"error: the database is not reachable ({type(exc).__name__})", err=True)
                return EXIT_FAILED
            if not current:
                click.echo(
                    f"error: {migrate.OUT_OF_DATE}",
                    err=True,
                )
                return EXIT_FAILED
            stop = stop_on_signals()
            click.echo("privacybot is polling Telegram for updates (Ctrl-C to stop)", err=True)
            try:
                handled = await run_polling(Inbound.build(tg), stop, progress=_progress)
            except TELEGRAM_ERRORS as exc:
                click.echo(f"error: {_why(exc)}", err=True)
                return EXIT_FAILED
            await runtime.tasks.drain()
            click.echo(f"stopped; {handled} updates handled", err=True)
            return 0
        finally:
            await tg.bot.session.close()
            await runtime.close()

    try:
        code = asyncio.run(go())
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)
    ctx.exit(code)


def _progress(handled: int) -> None:
    click.echo(f"{handled} updates handled", err=True)


@telegram.group("webhook")
def webhook() -> None:
    """Register, show or remove the webhook at Telegram."""


@webhook.command("set")
@click.option(
    "--drop-pending", is_flag=True, help="Discard the updates Telegram is holding for the bot."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def webhook_set(ctx: click.Context, drop_pending: bool, as_json: bool) -> None:
    """Register TELEGRAM_WEBHOOK_URL with TELEGRAM_WEBHOOK_SECRET (setWebhook).

    `privacybot serve` does this at start when TELEGRAM_WEBHOOK_URL is set."""
    from bot.channels.telegram.context import ALLOWED_UPDATES
    from bot.channels.telegram.webhook import check_secret, register_webhook

    settings = settings_from(ctx)
    secret = settings.telegram_webhook_secret
    if not settings.telegram_webhook_url or secret is None or not secret.get_secret_value():
        _fail(ctx, "set TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
    try:
        check_secret(settings)
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_SETTINGS)

    async def call(bot: Any) -> None:
        await register_webhook(bot, settings, drop_pending=drop_pending)

    _with_bot(ctx, settings, call)
    url = settings.telegram_webhook_url
    if as_json:
        click.echo(json.dumps({"url": url, "allowed_updates": ALLOWED_UPDATES, "set": True}))
    else:
        click.echo(f"webhook set: {url}")


@webhook.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def webhook_info(ctx: click.Context, as_json: bool) -> None:
    """Show what Telegram has: the URL, updates waiting, the last delivery error.

    Exit 1 when Telegram's URL is not TELEGRAM_WEBHOOK_URL (when that is set)."""
    settings = settings_from(ctx)

    async def call(bot: Any) -> dict[str, Any]:
        info = await bot.get_webhook_info()
        data: dict[str, Any] = info.model_dump(mode="json", exclude_none=True)
        return data

    data = _with_bot(ctx, settings, call)
    expected = settings.telegram_webhook_url
    data["matches_settings"] = not expected or data.get("url") == expected
    if as_json:
        click.echo(json.dumps(data, sort_keys=True))
    else:
        click.echo(f"url:             {data.get('url') or '(none: long polling)'}")
        click.echo(f"pending updates: {data.get('pending_update_count', 0)}")
        click.echo(f"allowed updates: {', '.join(data.get('allowed_updates') or []) or 'all'}")
        if data.get("last_error_message"):
            click.echo(f"last error:      {data['last_error_message']}")
        if not data["matches_settings"]:
            click.echo("note: this is not TELEGRAM_WEBHOOK_URL", err=True)
    if not data["matches_settings"]:
        ctx.exit(EXIT_FAILED)


@webhook.command("delete")
@click.option(
    "--drop-pending", is_flag=True, help="Discard the updates Telegram is holding for the bot."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_context
def webhook_delete(ctx: click.Context, drop_pending: bool, as_json: bool) -> None:
    """Remove the webhook (deleteWebhook), e.g. before `privacybot telegram poll`."""
    settings = settings_from(ctx)

    async def call(bot: Any) -> bool:
        return bool(await bot.delete_webhook(drop_pending_updates=drop_pending))

    deleted = _with_bot(ctx, settings, call)
    if as_json:
        click.echo(json.dumps({"deleted": deleted}))
    else:
        click.echo("webhook removed" if deleted else "Telegram did not remove the webhook")
    if not deleted:
        ctx.exit(EXIT_FAILED)
