"""Issue 13.18: every command answers an unreachable database with a clear message and
exit code 4 (not a traceback and not 1, which means "the workflow refused")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import EXIT_DATABASE, cli
from tests.conftest import TEST_SECRET

COMMANDS = [
    ["requests", "approve", "PR-ABCDEF", "--agent", "mette"],
    ["requests", "list"],
    ["alerts", "list"],
    ["agents", "list"],
    ["accounts", "unlock", "anna@example.dk", "--agent", "mette"],
    ["audit", "verify"],
    ["outbox"],
    ["db", "current"],
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_an_unreachable_database_exits_4_with_a_message(
    args: list[str], backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql":
        url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    else:
        url = f"sqlite:///{tmp_path}/no/such/folder/bot.db"
    result = CliRunner().invoke(cli, args, env={"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET})
    assert result.exit_code == EXIT_DATABASE, result.output
    assert "error: the database is unavailable" in result.output
    assert "Traceback" not in result.output
