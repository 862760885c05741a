"""One settings object, read from the environment and `.env`.

Every setting is documented in the README. Invalid values fail at start with a message
naming the setting (pydantic does the naming); secrets are `SecretStr` so they never
appear in a repr or a log line.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from storage.db import Database

MIN_SECRET_BYTES = 32
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(Exception):
    """Settings could not be loaded; the message names the offending setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./privacybot.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    secret_key: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # third-party loggers (Slack SDK, aiohttp access, asyncpg, SQLAlchemy, aiogram) trace
    # requests with their bodies: they stay at WARNING unless asked for
    library_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    data_dir: Path = Path("./data")
    demo: bool = False
    public_url: str | None = None
    # addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For is believed
    trusted_proxies: str = ""

    # how long to wait for the database before answering "unavailable" (a partition drops
    # packets: without these a request would hang for a minute or more)
    database_connect_timeout: float = Field(default=5.0, gt=0, le=300)
    database_command_timeout: float = Field(default=30.0, gt=0, le=3600)
    database_pool_timeout: float = Field(default=5.0, gt=0, le=300)
    web_request_timeout: float = Field(default=4.0, gt=0, le=300)

    # Outbound services: base URLs are settings so tests can point them at stand-ins.
    sms_api_url: str = "https://gatewayapi.com/rest/"
    sms_api_token: SecretStr | None = None
    sms_sender: str = "Support"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str = "privacy@example.com"

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_approvals_channel: str | None = None
    slack_approver_ids: str = ""
    slack_approver_group: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_api_url: str = "https://api.telegram.org"

    # workflow: which request kinds wait for an agent, and how the worker runs actions
    approval_required_kinds: str = "access,portability,restriction,human_review"
    erasure_approvers: int = Field(default=1, ge=1, le=5)
    worker_lease_seconds: float = Field(default=300.0, gt=0)
    worker_max_attempts: int = Field(default=5, ge=1, le=50)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    # the account store the rights act on, and the data map that describes it
    account_store_url: str | None = None  # default: the bot's own database
    datamap_path: Path | None = None  # default: the built-in store's map

    @field_validator("account_store_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite", "postgres", "mysql", "mariadb")):
            raise ValueError("must be a sqlite:///, postgresql://, mysql:// or mariadb:// URL")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _known_networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(
                        f"{part.strip()!r} is not an IP address or CIDR range"
                    ) from None
        return value

    @model_validator(mode="after")
    def _strong_secret(self) -> Settings:
        if self.secret_key is None or self.demo:
            return self
        if len(self.secret_key.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"SECRET_KEY: must be at least {MIN_SECRET_BYTES} bytes outside demo mode"
                " (e.g. `openssl rand -hex 32`)"
            )
        return self

    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        """TRUSTED_PROXIES as networks (a single address is a /32 or /128)."""
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in self.trusted_proxies.split(",")
            if part.strip()
        )

    def database(self) -> Database:
        """The bot's database with this process's timeouts (connect, command, pool), with
        the account store (ACCOUNT_STORE_URL) attached when it is another database."""
        from storage import account_store
        from storage.db import Database, Timeouts

        timeouts = Timeouts(
            connect=self.database_connect_timeout,
            command=self.database_command_timeout,
            pool=self.database_pool_timeout,
        )
        database = Database(self.database_url, timeouts=timeouts)
        account_store.connect(database, self.account_store_url, timeouts=timeouts)
        return database

    def secret(self) -> bytes:
        """The key for code hashes and signed links. Demo mode makes and keeps one."""
        if self.secret_key is not None and (self.secret_key.get_secret_value() or not self.demo):
            return self.secret_key.get_secret_value().encode()
        if not self.demo:
            raise SettingsError(
                "SECRET_KEY is not set: set it (32+ random characters), or use demo mode"
                " (`serve --demo`; DEMO=true for the other commands)"
            )
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip().encode()


def _error_line(loc: tuple[int | str, ...], message: str) -> str:
    """`SETTING: what is wrong`; a check across settings names its setting itself."""
    if loc:
        return f"{'.'.join(str(p) for p in loc).upper()}: {message}"
    return message.removeprefix("Value error, ")


def load_settings(**overrides: object) -> Settings:
    """Load settings, turning pydantic's error into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [_error_line(err["loc"], err["msg"]) for err in exc.errors()]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
