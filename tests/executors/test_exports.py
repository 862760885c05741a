"""Signed download tokens: genuine ones verify, anything else does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.exports import (
    LIFETIME,
    ExpiredLink,
    InvalidLink,
    sign_download,
    signed_link,
    verify_download,
)

SECRET = b"k" * 40
NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


def test_a_token_verifies_until_it_expires() -> None:
    token = sign_download(SECRET, "PR-ABC123", "PR-ABC123-access.zip", NOW + LIFETIME)
    assert verify_download(SECRET, token, NOW) == ("PR-ABC123", "PR-ABC123-access.zip")
    assert verify_download(SECRET, token, NOW + LIFETIME - timedelta(seconds=1))[0] == "PR-ABC123"
    with pytest.raises(ExpiredLink):
        verify_download(SECRET, token, NOW + LIFETIME)


def test_two_tokens_for_the_same_file_differ() -> None:
    one = sign_download(SECRET, "PR-ABC123", "a.zip", NOW)
    assert one != sign_download(SECRET, "PR-ABC123", "a.zip", NOW)


@pytest.mark.parametrize("position", [0, 5, -1, -5])
def test_any_changed_character_is_refused(position: int) -> None:
    token = sign_download(SECRET, "PR-ABC123", "a.zip", NOW + LIFETIME)
    swapped = "A" if token[position] != "A" else "B"
    tampered = (
        token[:position] + swapped + token[position + 1 :]
        if position != -1
        else token[:-1] + swapped
    )
    with pytest.raises(InvalidLink):
        verify_download(SECRET, tampered, NOW)


def test_another_key_or_garbage_is_refused() -> None:
    token = sign_download(SECRET, "PR-ABC123", "a.zip", NOW + LIFETIME)
    for bad in (token.replace(".", ""), "", ".", "x.y", "a" * 700, "../../etc/passwd"):
        with pytest.raises(InvalidLink):
            verify_download(SECRET, bad, NOW)
    with pytest.raises(InvalidLink):
        verify_download(b"other-key" * 4, token, NOW)


def test_expiry_cannot_be_extended_by_editing_the_payload() -> None:
    import base64

    token = sign_download(SECRET, "PR-ABC123", "a.zip", NOW + timedelta(seconds=1))
    payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    reference, name, expires, nonce = raw.split("/")
    later = f"{reference}/{name}/{int(expires) + 10**6}/{nonce}".encode()
    forged = base64.urlsafe_b64encode(later).rstrip(b"=").decode() + "." + signature
    with pytest.raises(InvalidLink):
        verify_download(SECRET, forged, NOW)


def test_file_names_with_directories_cannot_be_signed() -> None:
    for bad in ("../x.zip", "a/b.zip", ".hidden", ""):
        with pytest.raises(ValueError):
            sign_download(SECRET, "PR-ABC123", bad, NOW)


def test_signed_link_gives_url_and_expiry() -> None:
    link = signed_link(SECRET, "https://bot.example/", "PR-ABC123", "a.zip", NOW)
    assert link["download_url"].startswith("https://bot.example/downloads/")
    assert link["expires_at"] == (NOW + timedelta(days=7)).isoformat()
