"""The customer simulator reads the bot as a customer would (it is a measuring tool: a
misreading would blame or credit the bot for the simulator's mistake)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialogs.simulator import Ask, what_is_asked


def reply(text: str, *values: str) -> list[dict[str, Any]]:
    return [{"text": text, "buttons": [{"label": v, "value": v} for v in values]}]


@pytest.mark.parametrize(
    ("replies", "ask"),
    [
        (
            reply("I'll delete your account. Do you want to continue?", "confirm", "cancel"),
            Ask.CONFIRM,
        ),
        (
            reply(
                "First I need to confirm it's you with a one-time code. What is the email "
                "address or phone number registered on your account?",
                "cancel",
            ),
            Ask.CONTACT,
        ),
        (
            reply(
                "Hvis a***@example.dk er registreret på en konto, er en 6-cifret kode på vej "
                "dertil. Skriv koden her; den gælder i 10 minutter.",
                "no_code",
            ),
            Ask.CODE,
        ),
        (reply("Hvad er det nye firmanavn?", "cancel"), Ask.NEW_VALUE),
        (reply("What should we stop?", "all", "marketing_email", "tracking"), Ask.PURPOSES),
        (reply("What would you like to correct?", "email", "phone", "name"), Ask.FIELD),
        (reply("Which automated decision should a person look at?", "cancel"), Ask.NOTHING),
        (reply("Done: your request has reference PR-ABC234."), Ask.NOTHING),
        (
            reply("I'm not sure I understood. Did you mean one of these?", "access", "erasure"),
            Ask.CHOICE,
        ),
    ],
)
def test_what_the_bot_waits_for(replies: list[dict[str, Any]], ask: Ask) -> None:
    assert what_is_asked(replies) is ask
