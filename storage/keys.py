"""Every key and keyed hash derived from SECRET_KEY, in one place.

One secret serves many uses (session cookies, download links, identity hashes ...). Each
use names its *purpose*, and the purpose is part of what is hashed, so a value made for
one use can never be replayed as another's (domain separation):

- `mac(secret, purpose, message)` is HMAC-SHA256 over `purpose + "\\n" + message`;
- `derive(secret, purpose)` is an independent 32-byte key (HKDF-SHA256, the purpose as
  its `info`), for a use that needs a key of its own (e.g. encryption).

The unlabelled purposes (`IDENTITY`, `STORED_VALUE`, `CHAT_TOKEN`) hash the message alone.
They predate the labels and their hashes are kept in databases: requester and agent
identity refs (compared with each other to refuse self-approval), hashed contacts and
erased values, chat tokens of conversations that may be resumed. Changing them would
orphan that data, so they stay as they are; their messages cannot take the form of a
labelled one's by accident (identities are `channel:id`, values are the data map's,
tokens are random).

Rate-limit keys are labelled with the limiter's own name (`login`, `webchat` ...), so
the purpose of `rate_limit(name)` is that name.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Unlabelled: byte-identical to the hashes already stored (see the module docstring).
IDENTITY = ""
STORED_VALUE = ""
CHAT_TOKEN = ""

AGENT_SESSION = "agent-session"
AGENT_CSRF = "agent-csrf"
DOWNLOAD_LINK = "privacybot-download-v1"
REFERRAL_ACK_LINK = "privacybot-referral-ack-v1"
VERIFICATION_SUBJECT = "verification-subject"
VERIFICATION_CODE = "verification-code"


def rate_limit(name: str) -> str:
    """The purpose of a shared rate limiter's keys: its name."""
    return name


def _bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


def mac(secret: bytes, purpose: str, message: str | bytes) -> bytes:
    """HMAC-SHA256 of `message` for `purpose` under `secret`."""
    label = purpose.encode() + b"\n" if purpose else b""
    return hmac.new(secret, label + _bytes(message), hashlib.sha256).digest()


def mac_hex(secret: bytes, purpose: str, message: str | bytes) -> str:
    """`mac` as 64 hex digits, the form kept in database columns."""
    return mac(secret, purpose, message).hex()


def derive(secret: bytes, purpose: str | bytes) -> bytes:
    """A 32-byte key of its own for `purpose`, independent of every other purpose's."""
    info = _bytes(purpose)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of two MACs (or their hex forms)."""
    return hmac.compare_digest(_bytes(a), _bytes(b))
