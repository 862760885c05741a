"""The CLI's lazy command registry: the list matches the commands, and listing them
loads nothing heavy (behaviour checked through `sys.modules`, not timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "aiohttp", "pydantic", "aiogram", "slack_bolt", "slack_sdk", "fpdf")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_the_commands_own(name: str) -> None:
    """`--help` prints the registry's summary; it must say what the command itself says."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    assert COMMANDS[name].summary == command.get_short_help_str(limit=10_000)


def test_the_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == sorted(COMMANDS)
    assert any("Privacy requests: list, inspect and decide." in line for line in listed)


def _loaded_after(*args: str) -> set[str]:
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        f"sys.argv = ['privacybot', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stderr.split())


def test_listing_the_commands_loads_no_database_web_or_chat_library() -> None:
    assert _loaded_after("--help") & set(HEAVY) == set()


def test_a_command_s_own_help_loads_no_chat_sdk() -> None:
    loaded = _loaded_after("requests", "--help")
    assert loaded & {"aiogram", "slack_bolt", "slack_sdk", "fpdf"} == set()
