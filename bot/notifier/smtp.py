"""Email through SMTP with aiosmtplib: STARTTLS as the SMTP_STARTTLS setting says.

A 5xx reply (recipient refused, message rejected, login refused) is permanent; a 4xx
reply, a refused connection or a timeout is worth another try later.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from bot.config import Settings
from bot.notifier.base import SendError

TIMEOUT_SECONDS = 30.0


class EmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        starttls: bool = True,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self._password = password

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username or None,
            password=password,
        )

    def message(self, to: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.sender.rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        message.set_content(text)
        return message

    async def send(self, to: str, subject: str, text: str) -> None:
        """Send one email; raises `SendError` (never with the address in it)."""
        try:
            await aiosmtplib.send(
                self.message(to, subject, text),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self._password,
                start_tls=self.starttls,
                timeout=TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = all(code >= 500 for code in codes)
            raise SendError(
                f"SMTP recipient refused ({min(codes, default=0)})", permanent=permanent
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            # The reply text can quote the address: only the code is kept.
            raise SendError(f"SMTP answered {exc.code}", permanent=exc.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(f"SMTP unreachable: {type(exc).__name__}", permanent=False) from None
