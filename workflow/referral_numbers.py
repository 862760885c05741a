"""A recipient's phone number, in the three forms a referral keeps it (see
storage.referral_models): a keyed hash to find it again, a masked form for agents, and
a sealed (encrypted) form only the workflow can open, to tell the controller.

The keys are derived from SECRET_KEY (`storage.keys.derive`), one per purpose, so the hash
key and the encryption key are independent of each other and of the other keyed hashes.
"""

from __future__ import annotations

import base64
import binascii
import secrets

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage import keys
from storage.datamap import keyed_hash

_HASH_INFO = b"privacybot/referral-number/hmac/v1"
_SEAL_INFO = b"privacybot/referral-number/aes-gcm/v1"
_SEAL_VERSION = "v1"
_NONCE_BYTES = 12
KEEP_DIGITS = 2  # of the national number, at each end, in the masked form


class SealError(Exception):
    """A sealed number could not be opened (another key, or altered)."""


def _key(secret: bytes, info: bytes) -> bytes:
    return keys.derive(secret, info)


def normalise(number: str) -> str:
    """The number as E.164 (`+4531000003`); ValueError when it is not a possible number."""
    try:
        parsed = phonenumbers.parse(number.strip(), "DK")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def number_hash(secret: bytes, e164: str) -> str:
    """Keyed HMAC-SHA256 of the E.164 number: equal numbers match, nobody can reverse it."""
    return keyed_hash(_key(secret, _HASH_INFO), e164)


def masked(e164: str) -> str:
    """`+45 31 ** ** 03`: the country code, the first and last two digits of the rest."""
    parsed = phonenumbers.parse(e164)
    shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{parsed.country_code}"
    national = shown[len(prefix) :]
    total = sum(ch.isdigit() for ch in national)
    out, seen = [], 0
    for ch in national:
        if ch.isdigit():
            keep = seen < KEEP_DIGITS or seen >= total - KEEP_DIGITS
            out.append(ch if keep else "*")
            seen += 1
        else:
            out.append(ch)
    return prefix + "".join(out)


def seal(secret: bytes, e164: str, reference: str) -> str:
    """The number encrypted (AES-256-GCM), bound to the referral's reference."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_key(secret, _SEAL_INFO)).encrypt(nonce, e164.encode(), reference.encode())
    return f"{_SEAL_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def unseal(secret: bytes, token: str, reference: str) -> str:
    """The number `seal` encrypted for this reference; SealError otherwise."""
    version, dot, body = token.partition(".")
    if version != _SEAL_VERSION or not dot:
        raise SealError("unknown sealed-number format")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        plain = AESGCM(_key(secret, _SEAL_INFO)).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], reference.encode()
        )
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise SealError("the sealed number does not open with this key") from exc
    return plain.decode()
