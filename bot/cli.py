"""`privacybot` (also `python -m bot`): serve, worker, db, demo, chat and the agent commands.

Exit codes: 0 success, 1 the command ran but failed (e.g. out-of-date schema, a refused
decision), 2 usage error (click), 3 bad settings, 4 the database is unavailable. The
last two are mapped here, in one place, for every command (`PrivacyBotGroup`).

Each command lives in its own module under `bot.commands` and is imported only when it
runs (`COMMANDS`): `privacybot --help` lists them from their one-line summaries without
loading a database driver, the web framework or a chat SDK.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import click

from bot.commands.common import EXIT_DATABASE, EXIT_FAILED, EXIT_SETTINGS

__all__ = ["COMMANDS", "EXIT_DATABASE", "EXIT_FAILED", "EXIT_SETTINGS", "cli", "main"]


class Lazy(NamedTuple):
    """Where a command is defined, and its one-line summary for the command list
    (tests/test_cli_commands.py holds the summary to the command's own docstring)."""

    module: str
    attribute: str
    summary: str


COMMANDS: dict[str, Lazy] = {
    "accounts": Lazy(
        "bot.commands.accounts",
        "accounts",
        "Customer accounts: unlock verification by code after too many wrong codes.",
    ),
    "agents": Lazy(
        "bot.commands.agents",
        "agents",
        "Agent console accounts: add, list, remove, set-password.",
    ),
    "alerts": Lazy(
        "bot.commands.alerts",
        "alerts",
        "Alerts for the privacy team: deadlines, failures, reviews, hand-over wishes.",
    ),
    "audit": Lazy(
        "bot.commands.audit", "audit", "The hash-chained audit log of every privacy request."
    ),
    "chat": Lazy(
        "bot.commands.chat",
        "chat",
        "Talk to the bot on stdin/stdout; type a button's number to press it.",
    ),
    "classify": Lazy(
        "bot.commands.classify",
        "classify",
        "Recognise the language and intent of each TEXT (or of each stdin line).",
    ),
    "datamap": Lazy(
        "bot.commands.datamap",
        "command",
        "The data map (DATAMAP_PATH): check it against the database, print the Art.",
    ),
    "db": Lazy(
        "bot.commands.database", "db", "Database schema: apply or roll back Alembic migrations."
    ),
    "demo": Lazy("bot.commands.demo", "demo", "Demo data for trying the bot out."),
    "outbox": Lazy(
        "bot.commands.outbox", "outbox", "List the SMS and emails to customers, oldest first."
    ),
    "referrals": Lazy(
        "bot.commands.referrals",
        "referrals_group",
        "Requests from SMS recipients, forwarded to the accounts that sent the messages.",
    ),
    "report": Lazy(
        "bot.commands.report",
        "report",
        "Requests per month and kind, answered on time, days to answer, open and overdue "
        "now, extensions and rejections with reasons, channels and languages, retention "
        "sweeps, verification failures, and the Art.",
    ),
    "requests": Lazy(
        "bot.commands.requests", "requests", "Privacy requests: list, inspect and decide."
    ),
    "retention": Lazy(
        "bot.commands.retention",
        "retention",
        "Retention: anonymise old SMS, erase old transcripts, purge expired codes and links.",
    ),
    "serve": Lazy(
        "bot.commands.serve",
        "serve",
        "Run the web process: web chat, health checks and the channel webhooks.",
    ),
    "slack": Lazy(
        "bot.commands.slack",
        "slack",
        "Slack: run over Socket Mode, or sync the approvals channel.",
    ),
    "telegram": Lazy(
        "bot.commands.telegram",
        "telegram",
        "Telegram: long polling for local development, and the webhook registration.",
    ),
    "worker": Lazy(
        "bot.commands.worker",
        "worker",
        "Run queued privacy actions, deliver customer notifications and deadline reminders, "
        "and the retention sweep when it is due.",
    ),
}


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def database_unavailable(exc: BaseException) -> BaseException | None:
    """The error in `exc`'s chain that says the database cannot be reached, if any."""
    from storage.db import unavailable

    return next((error for error in _chain(exc) if unavailable(error)), None)


class PrivacyBotGroup(click.Group):
    """The command group that loads each command when it is asked for, and turns bad
    settings and an unreachable database into a clear message and their own exit codes,
    whichever command met them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = COMMANDS.get(cmd_name)
        if lazy is None:
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(lazy.module), lazy.attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{lazy.module}.{lazy.attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries in `COMMANDS`, as click would print it from
        the commands themselves, without importing them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            lazy = COMMANDS.get(name)
            command = (
                click.Command(name, help=lazy.summary)
                if lazy is not None
                else super().get_command(ctx, name)
            )
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from bot.config import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_SETTINGS) from None
        except Exception as exc:
            cause = database_unavailable(exc)
            if cause is None:
                raise
            origin = _chain(cause)[-1]
            click.echo(
                f"error: the database is unavailable ({type(origin).__name__}); the command "
                "did not complete. Check DATABASE_URL and that the database server is "
                "running, then run it again (a decision that was recorded after all is "
                "then refused as already decided, so running it again is safe).",
                err=True,
            )
            raise click.exceptions.Exit(EXIT_DATABASE) from None


@click.group(cls=PrivacyBotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="privacybot")
def cli() -> None:
    """Privacy support bot: answers customers and carries out their GDPR requests."""


def main() -> None:
    cli(prog_name="privacybot")


if __name__ == "__main__":
    main()
