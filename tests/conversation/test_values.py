"""New values read from what customers write: the new one, never the one on the account."""

from __future__ import annotations

import pytest

from handlers.values import (
    answer_value,
    corrected_value,
    field_values,
    new_contact,
    new_text_value,
)
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
        # the old value after "not" is no part of the new one; "should now be" marks it
        ("the name should be Anna Jensen-Møller now, not Anna Jensen", "Anna Jensen-Møller"),
        ("shud be Ben Carter now not Benjamin thx", "Ben Carter"),
        # "my full name, X": the description goes, the value stays
        (
            "I would be grateful if you would amend it to my full name, Benjamin Carter.",
            "Benjamin Carter",
        ),
    ],
)
def test_a_new_name_is_what_follows_the_marker(text: str, expected: str | None) -> None:
    assert new_text_value(text, "name") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Our address is still 1 Spoke Lane, Bristol BS1 4DJ but it should now be "
            "22 Chain Street, Bristol BS2 8QT.",
            "22 Chain Street, Bristol BS2 8QT",
        ),
        (
            "Adressen er stadig Bagergade 1, 8000 Aarhus C, men den skal være Møllevej 14, "
            "8000 Aarhus C nu.",
            "Møllevej 14, 8000 Aarhus C",
        ),
        (
            "vi er flyttet til Mejlgade 23, 8000 Aarhus C, så adressen skal rettes",
            "Mejlgade 23, 8000 Aarhus C",
        ),
        (
            "vi er flyttet!! ny adresse er Møllevej 12, 8000 Aarhus C, kan i rette det",
            "Møllevej 12, 8000 Aarhus C",
        ),
        (
            "update our address from 1 Spoke Lane, Bristol BS1 4DJ to 12 Chain Street, Bristol "
            "BS2 0AB, and while you're at it send me a copy of the data",
            "12 Chain Street, Bristol BS2 0AB",
        ),
        (
            "moved the shop 🚲 new addy is 22 Chain Street, Bristol BS2 0JA can u update pls",
            "22 Chain Street, Bristol BS2 0JA",
        ),
    ],
)
def test_a_new_address_keeps_its_commas(text: str, expected: str) -> None:
    assert new_text_value(text, "address") == expected


def test_words_without_a_number_are_no_address_and_please_is_no_name() -> None:
    text = "vi er rykket til et større lokale, så adressen skal rettes. Og når jeg nu er i gang"
    assert new_text_value(text, "address") is None
    assert new_text_value("could you change it to Benjamin Carter please.", "name") == (
        "Benjamin Carter"
    )


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "My name ought to read Benjamin Carter rather than Ben Carter, and our postal "
            "address has changed to 12 Harbour Road, Bristol BS1 5TT. Thank you kindly.",
            [("name", "Benjamin Carter"), ("address", "12 Harbour Road, Bristol BS1 5TT")],
        ),
        (
            "Ret firmanavnet til Annas Bageri & Café ApS og mailen til kontor@annasbageri.dk",
            [("company", "Annas Bageri & Café ApS"), ("email", "kontor@annasbageri.dk")],
        ),
        # one field: one value, even with the current one named
        (
            "the email on our account is still ben@example.com and it needs to be "
            "ben@bensbikes.co.uk now",
            [("email", "ben@bensbikes.co.uk")],
        ),
        ("My name is Anna and I want to change my email", []),
        # "pursuant to Article 21", "look forward to your confirmation": no new values
        (
            "rectify the company name, which should now read Ben's Bikes & Repairs Ltd "
            "following a change of name, and cease profiling pursuant to Article 21. We look "
            "forward to your written confirmation.",
            [("company", "Ben's Bikes & Repairs Ltd")],
        ),
    ],
)
def test_each_field_gets_the_value_from_its_own_stretch(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert field_values(text, ("DK", "GB")) == expected


@pytest.mark.parametrize(
    ("text", "pending", "fixed"),
    [
        (
            "undskyld, jeg skrev det forkert – det hedder Annas Bageri & Café ApS, med & og é",
            "Annas Bageri og Cafe ApS",
            "Annas Bageri & Café ApS",
        ),
        ("oops typo - its Benjamin Carter", "benjamn carter", "Benjamin Carter"),
        (
            "hov skal vaere med é: Annas Bageri & Café ApS",
            "Annas Bageri & Cafe ApS",
            "Annas Bageri & Café ApS",
        ),
        ("hvorfor det?", "Benjamin Carter", None),
    ],
)
def test_a_fixed_typo_replaces_the_value_it_fixes(
    text: str, pending: str, fixed: str | None
) -> None:
    assert corrected_value(text, "company", pending) == fixed
