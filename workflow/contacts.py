"""Email addresses and phone numbers found in what customers type, with where they stand.

Phone numbers are read with `phonenumbers`, trying the regions the conversation
suggests (the account's country, the chat's language) so national forms work
("07700 900001" for a British account, "20 00 00 01" for a Danish one), and digits
typed without "+" in international form ("447700900001", "0045 2000 0001") too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers

from workflow.identity import Contact, parse_email

LANGUAGE_REGIONS = {"da": "DK", "en": "GB"}
DEFAULT_REGIONS = ("DK", "GB")
MIN_DIGITS = 8
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DIGITS = re.compile(r"\+?\d[\d \-().]{5,}\d")


@dataclass(frozen=True, slots=True)
class Found:
    """A contact detail in a text, and the span it was typed at."""

    contact: Contact
    start: int
    end: int


def regions(language: str | None, phone_hint: str | None = None) -> tuple[str, ...]:
    """Regions to read national numbers in: the account's country first, then the chat's."""
    ordered: list[str] = []
    if phone_hint:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_hint, None))
        except phonenumbers.NumberParseException:
            region = None
        if region and region != "ZZ":
            ordered.append(region)
    if language in LANGUAGE_REGIONS:
        ordered.append(LANGUAGE_REGIONS[language])
    ordered.extend(DEFAULT_REGIONS)
    return tuple(dict.fromkeys(ordered))


def _best_number(raw: str, hints: Sequence[str]) -> str | None:
    """The E.164 form of one typed number: a valid reading first, else a possible one."""
    digits = re.sub(r"[^\d+]", "", raw)
    if len(digits.lstrip("+")) < MIN_DIGITS:  # a one-time code ("123 456") is no number
        return None
    candidates: list[tuple[str, str | None]] = [(raw, region) for region in hints]
    if digits.startswith("00"):
        candidates.insert(0, ("+" + digits[2:], None))
    elif not digits.startswith("+") and len(digits) >= 10:
        candidates.append(("+" + digits, None))
    possible: str | None = None
    for text, region in candidates:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number):
            return formatted
        if possible is None and phonenumbers.is_possible_number(number):
            possible = formatted
    return possible


def find_all(text: str, hints: Iterable[str] = DEFAULT_REGIONS) -> list[Found]:
    """Every email address and phone number in `text`, in the order typed."""
    hints = tuple(hints)
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for match in _EMAIL.finditer(text):
        contact = parse_email(match.group(0))
        if contact is not None:
            found.append(Found(contact, match.start(), match.end()))
            taken.append(match.span())
    for match in _DIGITS.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        number = _best_number(match.group(0), hints)
        if number is not None:
            found.append(Found(Contact("phone", number), match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def parse_contact(text: str, hints: Iterable[str] = DEFAULT_REGIONS) -> Contact | None:
    """The first email address or phone number in `text`."""
    everything = find_all(text, hints)
    emails = [f for f in everything if f.contact.kind == "email"]
    chosen = emails or everything
    return chosen[0].contact if chosen else None


def parse_phone(text: str, hints: Iterable[str] = DEFAULT_REGIONS) -> Contact | None:
    phones = [f.contact for f in find_all(text, hints) if f.contact.kind == "phone"]
    return phones[0] if phones else None
