"""New values read from what customers write: the new one, never the one on the account."""

from __future__ import annotations

import pytest

from handlers.values import answer_value, new_contact, new_text_value
from workflow.contacts import find_all, regions


@pytest.mark.parametrize(
    ("text", "kind", "language", "expected"),
    [
        (
            "the email on our account is still ben@example.com and it needs to be "
            "ben@bensbikes.co.uk now",
            "email",
            "en",
            "ben@bensbikes.co.uk",
        ),
        (
            "mailen på vores konto er stadig anna@example.dk men den skal vaere "
            "anna@annasbageri.dk nu",
            "email",
            "da",
            "anna@annasbageri.dk",
        ),
        ("please change it from ben@example.com to ben@new.co.uk", "email", "en", "ben@new.co.uk"),
        ("ret vores tlf nr til 22 33 44 55 og sluk for tracking", "phone", "da", "+4522334455"),
        ("new number: 07700 900123", "phone", "en", "+447700900123"),
        ("my new email is ben@new.co.uk", None, "en", "ben@new.co.uk"),
    ],
)
def test_the_new_contact_is_the_one_introduced_as_new(
    text: str, kind: str | None, language: str, expected: str
) -> None:
    assert new_contact(text, kind, regions(language)) == expected


def test_a_text_naming_only_the_current_value_as_current_gives_none() -> None:
    assert new_contact("it is still ben@example.com", "email", regions("en")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "can u change our company name to Ben's Bikes & Repairs Ltd and also send me a copy",
            "Ben's Bikes & Repairs Ltd",
        ),
        ("Vi hedder nu Annas Bageri & Café ApS, kan I rette det?", "Annas Bageri & Café ApS"),
        ("change my name to Benjamin Carter please", "Benjamin Carter"),
        ("nothing here", None),
        ("I need to correct my company name", None),
    ],
)
def test_a_new_name_is_what_follows_the_marker(text: str, expected: str | None) -> None:
    assert new_text_value(text) == expected


def test_a_reply_to_the_question_loses_its_framing() -> None:
    assert answer_value("it's Benjamin Carter.") == "Benjamin Carter"
    assert answer_value("det er anna@annasbageri.dk") == "anna@annasbageri.dk"


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        ("07700900001", "en", "+447700900001"),
        ("447700900001", "en", "+447700900001"),
        ("0044 7700 900001", "da", "+447700900001"),
        ("+44 7700 900001", "da", "+447700900001"),
        ("20 00 00 01", "da", "+4520000001"),
        ("0045 2000 0001", "en", "+4520000001"),
    ],
)
def test_phone_numbers_in_national_and_international_forms(
    typed: str, language: str, expected: str
) -> None:
    assert [f.contact.value for f in find_all(typed, regions(language))] == [expected]


def test_a_one_time_code_is_not_read_as_a_phone_number() -> None:
    assert find_all("koden er 123 456", regions("da")) == []
