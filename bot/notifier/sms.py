"""SMS through the company's SMS REST API (GatewayAPI's `POST /rest/mtsms`).

One JSON POST per message: `{"sender", "message", "recipients": [{"msisdn"}]}` with the
API token in the `Authorization: Token ...` header. The recipient is the E.164 number
without "+", as an integer (4520000001). 2xx means accepted; 408, 429 and 5xx are worth
another try later; any other answer will not get better by repeating it.
"""

from __future__ import annotations

import aiohttp

from bot.config import Settings
from bot.notifier.base import SendError

PATH = "mtsms"
TIMEOUT_SECONDS = 15.0
_RETRYABLE = frozenset({408, 425, 429})


def msisdn(number: str) -> int:
    """'+45 20 00 00 01' -> 4520000001; a malformed number is a permanent failure."""
    digits = number.strip().removeprefix("+").replace(" ", "")
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise SendError("invalid recipient number", permanent=True)
    return int(digits)


class SmsClient:
    """Sends one SMS per call over the caller's aiohttp session."""

    def __init__(self, base_url: str, token: str | None, sender: str) -> None:
        self.url = base_url.rstrip("/") + "/" + PATH
        self._token = token
        self.sender = sender

    @classmethod
    def from_settings(cls, settings: Settings) -> SmsClient:
        token = settings.sms_api_token.get_secret_value() if settings.sms_api_token else None
        return cls(settings.sms_api_url, token, settings.sms_sender)

    @property
    def configured(self) -> bool:
        return bool(self._token)

    @staticmethod
    def session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))

    def payload(self, to: str, text: str) -> dict[str, object]:
        return {"sender": self.sender, "message": text, "recipients": [{"msisdn": msisdn(to)}]}

    async def send(self, http: aiohttp.ClientSession, to: str, text: str) -> None:
        """Send `text` to `to` (E.164); raises `SendError` when the API did not accept it."""
        if not self._token:
            raise SendError("SMS_API_TOKEN is not set", permanent=False)
        body = self.payload(to, text)
        headers = {"Authorization": f"Token {self._token}", "Accept": "application/json"}
        try:
            async with http.post(
                self.url, json=body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()  # release the connection; the body is not needed
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise SendError(f"SMS API unreachable: {type(exc).__name__}", permanent=False) from None
        if 200 <= status < 300:
            return
        permanent = status < 500 and status not in _RETRYABLE
        raise SendError(f"SMS API answered HTTP {status}", permanent=permanent)
