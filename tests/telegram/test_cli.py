"""`privacybot telegram …` as a person runs it: a real process talking to the stand-in."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import TEST_SECRET, Backends
from tests.telegram.helpers import ANNA_CHAT, SECRET, message_update
from tests.telegram.standin import TOKEN, TelegramStandIn

ROOT = Path(__file__).resolve().parents[2]
HOOK = "https://bot.example.dk/telegram/webhook"


def environment(api: TelegramStandIn, tmp_path: Path, **extra: str) -> dict[str, str | None]:
    """The settings of a run (None: unset), pointed at the stand-in."""
    env: dict[str, str | None] = {
        "SECRET_KEY": TEST_SECRET,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path}/unused.db",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": None,
        "TELEGRAM_API_URL": api.url,
    }
    env.update(extra)
    return env


async def privacybot(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    """`privacybot telegram ARGS` in a thread of this process (its own event loop), so
    the stand-in keeps serving in the test's loop and aiogram is imported once."""
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["telegram", *args], env=env, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["poll"], ["webhook"], ["webhook", "set"], ["webhook", "info"], ["webhook", "delete"]],
)
def test_every_telegram_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["telegram", *command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


async def test_webhook_set_info_and_delete(telegram_api: TelegramStandIn, tmp_path: Path) -> None:
    env = environment(telegram_api, tmp_path, TELEGRAM_WEBHOOK_URL=HOOK)

    code, out, err = await privacybot(env, "webhook", "set", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "url": HOOK,
        "allowed_updates": ["message", "callback_query"],
        "set": True,
    }
    assert telegram_api.webhook == {
        "url": HOOK,
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }

    code, out, err = await privacybot(env, "webhook", "info", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert (info["url"], info["pending_update_count"], info["matches_settings"]) == (HOOK, 0, True)

    code, out, err = await privacybot(env, "webhook", "delete", "--json")
    assert (code, json.loads(out)) == (0, {"deleted": True})
    assert telegram_api.webhook == {}

    code, out, err = await privacybot(env, "webhook", "info")
    assert code == 1, "Telegram's URL no longer matches TELEGRAM_WEBHOOK_URL"
    assert "(none: long polling)" in out
    assert TOKEN not in out + err


async def test_webhook_failures_exit_1_without_the_token(
    telegram_api: TelegramStandIn, tmp_path: Path
) -> None:
    env = environment(telegram_api, tmp_path)  # no TELEGRAM_WEBHOOK_URL
    code, _out, err = await privacybot(env, "webhook", "set")
    assert code == 1 and "TELEGRAM_WEBHOOK_URL" in err
    assert telegram_api.calls == []

    telegram_api.failing.add("deleteWebhook")
    code, _out, err = await privacybot(env, "webhook", "delete")
    assert code == 1 and "Telegram refused" in err
    assert TOKEN not in err

    wrong = environment(telegram_api, tmp_path, TELEGRAM_BOT_TOKEN="123:wrong-token-for-test")
    code, _out, err = await privacybot(wrong, "webhook", "info")
    assert code == 1 and "Unauthorized" in err and "wrong-token" not in err

    bad_secret = environment(
        telegram_api, tmp_path, TELEGRAM_WEBHOOK_URL=HOOK, TELEGRAM_WEBHOOK_SECRET="has spaces!"
    )
    code, _out, err = await privacybot(bad_secret, "webhook", "set")
    assert code == 3 and "TELEGRAM_WEBHOOK_SECRET" in err and "has spaces" not in err

    malformed = environment(telegram_api, tmp_path, TELEGRAM_BOT_TOKEN="not a token")
    code, _out, err = await privacybot(malformed, "webhook", "info")
    assert code == 3 and "TELEGRAM_BOT_TOKEN" in err


async def test_poll_handles_updates_and_exits_0_on_ctrl_c(
    telegram_api: TelegramStandIn, tmp_path: Path, backends: Backends
) -> None:
    database = backends.sqlite(True)
    overrides = environment(telegram_api, tmp_path, DATABASE_URL=database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update({k: v for k, v in overrides.items() if v is not None}, PYTHONPATH=str(ROOT))
    update = message_update(ANNA_CHAT, text="/start", language_code="da")
    await telegram_api.queue(update)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "telegram",
        "poll",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # A new process imports aiogram first (seconds on a busy machine).
        await telegram_api.wait_until(lambda: bool(telegram_api.texts(ANNA_CHAT)), seconds=90)
        process.send_signal(signal.SIGINT)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "stopped; 1 updates handled" in err.decode()
    assert telegram_api.calls[0].method == "deleteWebhook"
    assert "Hej" in telegram_api.texts(ANNA_CHAT)[0]
