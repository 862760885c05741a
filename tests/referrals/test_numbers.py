"""The number's forms (hash, mask, seal) and the controller's acknowledgement link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.referrals.conftest import SECRET
from workflow import referral_links
from workflow.referral_numbers import SealError, masked, normalise, number_hash, seal, unseal

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("+4531000003", "+45 31 ** ** 03"),
        ("+447700900555", "+44 77** ****55"),
        ("+12025550123", "+1 20*-***-**23"),
    ],
)
def test_the_masked_form_keeps_the_country_and_two_digits_at_each_end(
    number: str, shown: str
) -> None:
    assert masked(number) == shown


def test_numbers_are_normalised_to_e164() -> None:
    assert normalise(" 31 00 00 03 ") == "+4531000003"
    assert normalise("+44 7700 900555") == "+447700900555"
    for bad in ("", "hello", "+45 1"):
        with pytest.raises(ValueError):
            normalise(bad)


def test_the_hash_is_keyed_and_stable() -> None:
    assert number_hash(SECRET, "+4531000003") == number_hash(SECRET, "+4531000003")
    assert number_hash(SECRET, "+4531000003") != number_hash(SECRET, "+4531000004")
    assert number_hash(SECRET, "+4531000003") != number_hash(b"another key" * 3, "+4531000003")


def test_a_sealed_number_opens_only_with_its_key_and_reference() -> None:
    sealed = seal(SECRET, "+4531000003", "RF-AAAAAA")
    assert "31000003" not in sealed and sealed != seal(SECRET, "+4531000003", "RF-AAAAAA")
    assert unseal(SECRET, sealed, "RF-AAAAAA") == "+4531000003"
    for key, reference, token in (
        (b"another key" * 3, "RF-AAAAAA", sealed),
        (SECRET, "RF-BBBBBB", sealed),
        (SECRET, "RF-AAAAAA", sealed[:-4] + "AAAA"),
        (SECRET, "RF-AAAAAA", "v2." + sealed[3:]),
        (SECRET, "RF-AAAAAA", "v1.%%%"),
    ):
        with pytest.raises(SealError):
            unseal(key, token, reference)


def test_the_acknowledgement_link() -> None:
    url = referral_links.ack_url(SECRET, "https://bot.example/", "RF-AB12CD", NOW)
    assert url.startswith("https://bot.example/referrals/ack/")
    token = url.rsplit("/", 1)[1]
    assert referral_links.verify_ack(SECRET, token, NOW) == "RF-AB12CD"
    with pytest.raises(referral_links.ExpiredLink):
        referral_links.verify_ack(SECRET, token, NOW + referral_links.LIFETIME)
    with pytest.raises(referral_links.InvalidLink):
        referral_links.verify_ack(b"another key" * 3, token, NOW)
    payload, _dot, signature = token.partition(".")
    forged = referral_links.sign_ack(SECRET, "RF-ZZZZZZ", NOW + timedelta(days=1))
    for bad in ("", "abc", f"{payload}.", f"{forged.partition('.')[0]}.{signature}", token + "x"):
        with pytest.raises(referral_links.InvalidLink):
            referral_links.verify_ack(SECRET, bad, NOW)
    with pytest.raises(ValueError):
        referral_links.sign_ack(SECRET, "PR-AB12CD", NOW)
