"""The console channel: the same router on stdin/stdout, for trying the bot locally."""

from __future__ import annotations

import asyncio
import secrets
from typing import TextIO

from bot.config import Settings
from bot.runtime import Runtime
from handlers.types import Incoming, Reply
from storage import migrate

CHANNEL = "console"


def render(replies: list[Reply], out: TextIO) -> dict[str, str]:
    """Print replies; return the number -> button value map for the next input."""
    choices: dict[str, str] = {}
    for reply in replies:
        out.write(f"bot> {reply.text}\n")
        if reply.link is not None:
            out.write(f"     {reply.link.label}: {reply.link.url}\n")
        for button in reply.buttons:
            number = str(len(choices) + 1)
            choices[number] = button.value
            out.write(f"     [{number}] {button.label}\n")
    out.flush()
    return choices


async def run_console(
    settings: Settings, conversation: str | None, stdin: TextIO, stdout: TextIO
) -> int:
    runtime = Runtime.build(settings)
    try:
        if not await migrate.schema_is_current(runtime.db):
            stdout.write(f"error: {migrate.OUT_OF_DATE}\n")
            return 1
        external_id = conversation or f"console-{secrets.token_hex(6)}"
        stdout.write(
            f"Conversation {external_id}. Type a message, a button number, or Ctrl-D to quit.\n"
        )
        choices: dict[str, str] = {}
        while True:
            stdout.write("you> ")
            stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                stdout.write("\n")
                return 0
            line = line.strip()
            if not line:
                continue
            button = choices.get(line)
            incoming = Incoming(
                channel=CHANNEL,
                external_id=external_id,
                text=None if button else line,
                button=button,
            )
            choices = render(await runtime.router.handle(incoming), stdout)
    finally:
        await runtime.close()
