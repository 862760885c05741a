"""Signed links by which a controller confirms that a referral reached them.

The token names one referral and carries its expiry, signed with HMAC-SHA256 under its
own domain, so a download token can never pass for it (nor the other way round). The
link opens a page with a button: mail scanners that follow links acknowledge nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from storage import keys
from workflow.exports import ExpiredLink, InvalidLink
from workflow.exports import _b64 as b64
from workflow.exports import _unb64 as unb64

LIFETIME = timedelta(days=60)
PATH = "/referrals/ack/"
_REFERENCE = re.compile(r"^RF-[A-Z0-9]{6}$")

__all__ = ["LIFETIME", "ExpiredLink", "InvalidLink", "ack_url", "sign_ack", "verify_ack"]


def _mac(secret: bytes, payload: bytes) -> bytes:
    return keys.mac(secret, keys.REFERRAL_ACK_LINK, payload)


def sign_ack(secret: bytes, reference: str, expires_at: datetime) -> str:
    if not _REFERENCE.match(reference):
        raise ValueError("not a referral reference")
    payload = f"{reference}/{int(expires_at.timestamp())}".encode()
    return f"{b64(payload)}.{b64(_mac(secret, payload))}"


def verify_ack(secret: bytes, token: str, now: datetime) -> str:
    """The reference of a genuine, unexpired token; InvalidLink or ExpiredLink otherwise."""
    encoded, dot, signature = token.partition(".")
    if not dot or not encoded or not signature or len(token) > 200:
        raise InvalidLink("malformed token")
    payload = unb64(encoded)
    if not keys.same(unb64(signature), _mac(secret, payload)):
        raise InvalidLink("bad signature")
    try:
        reference, expires = payload.decode("ascii").split("/")
        expires_at = int(expires)
    except ValueError as exc:  # also UnicodeDecodeError
        raise InvalidLink("malformed payload") from exc
    if not _REFERENCE.match(reference):
        raise InvalidLink("malformed payload")
    if now.timestamp() >= expires_at:
        raise ExpiredLink("link expired")
    return reference


def ack_url(secret: bytes, public_url: str, reference: str, now: datetime) -> str:
    return f"{public_url.rstrip('/')}{PATH}{sign_ack(secret, reference, now + LIFETIME)}"
