"""Signed, expiring download links for the files the executors write.

A token names one file of one request and carries its expiry; it is an HMAC-SHA256
over those fields and a random nonce, so it cannot be forged, altered or guessed, and
needs no database row. Files live in `<data_dir>/exports/`.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import keys
from workflow.lifecycle import ActionStatus, Status

LIFETIME = timedelta(days=7)
EXPORTS_DIR = "exports"
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class InvalidLink(Exception):
    """The token is malformed, tampered with or signed with another key."""


class ExpiredLink(Exception):
    """The token was valid but its lifetime is over."""


def safe_filename(name: str) -> str:
    """`name` if it is a plain file name (no directories, no dot-files); else ValueError."""
    if not _FILENAME.match(name) or ".." in name:
        raise ValueError("not a plain file name")
    return name


def safe_reference(reference: str) -> str:
    if not _REFERENCE.match(reference):
        raise ValueError("request reference is not a plain identifier")
    return reference


def exports_dir(data_dir: Path) -> Path:
    return data_dir / EXPORTS_DIR


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode, accepting only the one canonical spelling (no second token for one file)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidLink("malformed token") from exc
    if _b64(raw) != text:
        raise InvalidLink("malformed token")
    return raw


def _mac(secret: bytes, payload: bytes) -> bytes:
    return keys.mac(secret, keys.DOWNLOAD_LINK, payload)


def sign_download(
    secret: bytes, request_reference: str, filename: str, expires_at: datetime
) -> str:
    """A URL-safe token for `filename` of the request, valid until `expires_at`."""
    safe_reference(request_reference)
    safe_filename(filename)
    nonce = secrets.token_urlsafe(9)
    payload = f"{request_reference}/{filename}/{int(expires_at.timestamp())}/{nonce}".encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify_download(secret: bytes, token: str, now: datetime) -> tuple[str, str]:
    """(reference, filename) of a genuine, unexpired token; raises otherwise."""
    encoded, dot, signature = token.partition(".")
    if not dot or not encoded or not signature or len(token) > 600:
        raise InvalidLink("malformed token")
    payload = _unb64(encoded)
    if not keys.same(_unb64(signature), _mac(secret, payload)):
        raise InvalidLink("bad signature")
    try:
        reference, filename, expires, _nonce = payload.decode("ascii").split("/")
        expires_at = int(expires)
        safe_reference(reference)
        safe_filename(filename)
    except ValueError as exc:  # also UnicodeDecodeError
        raise InvalidLink("malformed payload") from exc
    if now.timestamp() >= expires_at:
        raise ExpiredLink("link expired")
    return reference, filename


def download_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/downloads/{token}"


def signed_link(
    secret: bytes, public_url: str, reference: str, filename: str, now: datetime
) -> dict[str, str]:
    """Notice parameters for a file: its download URL and when the link expires."""
    expires_at = now + LIFETIME
    token = sign_download(secret, reference, filename, expires_at)
    return {"download_url": download_url(public_url, token), "expires_at": expires_at.isoformat()}


async def account_exports(
    session: AsyncSession, data_dir: Path, account_id: object, except_reference: str
) -> list[Path]:
    """Export files (ZIPs) written for the account's other requests, still on disk."""
    from storage.privacy_models import PrivacyRequest

    references = await session.scalars(
        select(PrivacyRequest.reference).where(
            PrivacyRequest.account_id == account_id,
            PrivacyRequest.reference != except_reference,
        )
    )
    folder = exports_dir(data_dir)
    found: list[Path] = []
    for reference in references:
        if _REFERENCE.match(reference):
            found += sorted(folder.glob(f"{reference}-*.zip"))
    return found


async def still_servable(session: AsyncSession, reference: str) -> bool:
    """Whether files of this request may still be handed out: the request exists and its
    account has no erasure under way or done (an erasure's own receipt excepted). An
    erasure waiting for the customer to fetch their copy (its action put back, ready) is
    not under way yet."""
    from storage.privacy_models import Action, PrivacyRequest

    request = await session.scalar(
        select(PrivacyRequest).where(PrivacyRequest.reference == reference)
    )
    if request is None:
        return False
    if request.kind == "erasure":
        return True
    erased = await session.scalar(
        select(PrivacyRequest.id)
        .where(
            PrivacyRequest.account_id == request.account_id,
            PrivacyRequest.kind == "erasure",
            or_(
                PrivacyRequest.status == Status.COMPLETED,
                and_(
                    PrivacyRequest.status == Status.IN_PROGRESS,
                    ~exists().where(
                        Action.request_id == PrivacyRequest.id, Action.status == ActionStatus.READY
                    ),
                ),
            ),
        )
        .limit(1)
    )
    return erased is None
