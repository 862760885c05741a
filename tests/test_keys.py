"""The keyed hashes and keys derived from SECRET_KEY, pinned to known outputs.

Most of them are kept in databases or links already handed out (identity refs, hashed
values, chat and session tokens, download and acknowledgement links), so a change to
`storage.keys` or to a caller must not change a single byte; these values were computed
by the code before it was unified.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.channels import webchat
from bot.web.agent import sessions
from bot.web.ratelimit import SharedLimiter
from storage import keys
from storage.datamap import keyed_hash
from workflow import approvals, code_guard, exports, identity, referral_links, referral_numbers

SECRET = b"fixed-test-secret"


def test_stored_hashes_keep_their_bytes() -> None:
    assert sessions.token_hash(SECRET, "tok") == (
        "a802e1c143b43e8a2506fd59ff38df5c1a4c2463701a08d9239077b63bf53ed8"
    )
    assert sessions.csrf_token(SECRET, "tok") == (
        "dde09ed13929fb0207e53a614d0fb5e1be6f2c0bc8e0664121614fc1f8b69fc7"
    )
    bucket, _ = SharedLimiter("login", 5, 60.0)._bucket(
        SECRET, "1.2.3.4", datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert bucket == "login:4475a1b9f2f601634e53f43ea0185901f9911e5c:29453760"
    assert webchat.token_hash(SECRET, "tok") == (
        "646038c5157f6ef15ef0a6d0c67a4ec408fbcbadc53a1002aefa6d3d028653a1"
    )
    assert keyed_hash(SECRET, "a@b.dk") == (
        "e2bfb13bdd3ecad44c70464986ba728603a9b9ffe66a8cf34d6e7c32d7f292ac"
    )
    assert code_guard.contact_hash(SECRET, "email", "a@b.dk") == (
        "2c000d896db2d389fbc9716d96d7c591c0a8f7ce89a9ac37de177e35faf347f6"
    )
    assert approvals.identity_ref(SECRET, "slack:U123") == (
        "3f30cec001137afa8e007ba428081f29b8d1aaa87e26875aa0950f8b2a04e88b"
    )
    assert referral_numbers.number_hash(SECRET, "+4531000003") == (
        "4300f0d0a84fc1a8848b7da3d053848f6038a479a8aff9d2d7de3547d92b6c82"
    )


def test_links_already_sent_still_verify() -> None:
    assert exports._mac(SECRET, b"payload").hex() == (
        "d87777c7a1449f3574adc6459feb0b58630f3d0f0e5edd56929cb62d7f82be58"
    )
    assert referral_links._mac(SECRET, b"payload").hex() == (
        "47fb41480ebca8c1ed50d755783c632522d0d173ef295c58875da21f9c292ae5"
    )


def test_derived_key_keeps_its_bytes() -> None:
    assert keys.derive(SECRET, b"privacybot/referral-number/aes-gcm/v1").hex() == (
        "4bcf8c4f55d38137f0548085f31db2674e183c951f63d052f38c14f3d161a67e"
    )


def test_requester_and_agent_refs_are_the_same_function() -> None:
    """Self-approval is refused by comparing these two: they must never drift apart."""
    from handlers.privacy import requester_ref

    class _Incoming:
        channel, sender_id = "slack", "U123"

    class _Turn:
        incoming = _Incoming()
        conversation = None

        class services:
            secret = SECRET

    assert requester_ref(_Turn()) == approvals.identity_ref(SECRET, "slack:U123")  # type: ignore[arg-type]


def test_purposes_separate_the_same_message() -> None:
    labelled = {
        keys.mac(SECRET, purpose, "x")
        for purpose in (
            keys.AGENT_SESSION,
            keys.AGENT_CSRF,
            keys.DOWNLOAD_LINK,
            keys.REFERRAL_ACK_LINK,
            keys.VERIFICATION_SUBJECT,
            keys.VERIFICATION_CODE,
        )
    }
    assert len(labelled) == 6
    assert keys.mac(SECRET, keys.IDENTITY, "x") not in labelled
    assert keys.derive(SECRET, "a") != keys.derive(SECRET, "b")


def test_verification_code_hash_is_labelled() -> None:
    """Codes live ten minutes, so their hash could take its own label safely."""
    assert identity._code_hash(SECRET, "conv1", "123456") == keys.mac_hex(
        SECRET, keys.VERIFICATION_CODE, "conv1:123456"
    )
    assert identity._code_hash(SECRET, "conv1", "123456") != (
        "a98f6a8220d4463153211416ac1ad7dbfb13c207eeb336678c1e2ea7e79b5789"
    )
