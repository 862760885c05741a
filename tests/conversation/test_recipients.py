"""People who received an SMS through the gateway, end to end over the web chat (issue 14).

The demo data holds +4531000003 (recent messages from Anna's and Ben's accounts),
+447700900555 (Ben's only) and +4531000004 (only messages older than 30 days, already
anonymised): see storage/demo_seed.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage.models import Person
from storage.privacy_models import PrivacyRequest
from storage.referral_models import Referral
from tests.test_conversation_auth import latest_code, outbox
from tests.webchat import WebChat, button_values

Client = TestClient[Any, Any]
BOTH, OLD, UNKNOWN = "+4531000003", "+4531000004", "+4531000009"


async def referrals(runtime: Runtime) -> list[Referral]:
    async with runtime.db.sessions() as session:
        return list((await session.scalars(select(Referral).order_by(Referral.id))).all())


async def owners(runtime: Runtime) -> dict[int, str]:
    async with runtime.db.sessions() as session:
        rows = await session.execute(select(Person.account_id, Person.email))
    return {int(account): str(email) for account, email in rows.all()}


@pytest.mark.parametrize(
    ("opening", "number", "yes_words", "senders"),
    [
        (
            "jeg har fået en sms fra et firma gennem jer og vil have slettet mit nummer",
            "31 00 00 03",
            ("AnnasBageri", "BensBikes", "sendt din anmodning videre"),
            2,
        ),
        (
            "I got a text message sent through your gateway from a shop I never signed up "
            "with. Delete my phone number",
            "+45 31 00 00 03",
            ("AnnasBageri", "BensBikes", "passed your request on"),
            2,
        ),
    ],
)
async def test_a_recipient_verifies_the_number_hears_the_senders_and_both_are_told(
    client: Client,
    runtime: Runtime,
    opening: str,
    number: str,
    yes_words: tuple[str, ...],
    senders: int,
) -> None:
    chat = await WebChat.open(client)
    first = await chat.send(opening)
    assert "erasure" not in button_values(first) and "confirm" not in button_values(first)
    sent = await chat.say(number)
    assert "+45 31 ** ** 03" in sent
    told = await chat.say(await latest_code(runtime.db, BOTH))
    for words in yes_words:
        assert words in told, told
    found = await referrals(runtime)
    assert len(found) == senders and {r.kind for r in found} == {"erasure"}
    by_account = await owners(runtime)
    emails = [m for m in await outbox(runtime.db) if m.channel == "email"]
    for referral in found:
        [email] = [m for m in emails if referral.reference in m.text]
        assert email.to == by_account[referral.account_id], "to the sending account's contact"
        shown = email.text.replace(" ", "")
        assert BOTH in shown, "the controller sees the whole number: it is their data"
    async with runtime.db.sessions() as session:
        assert (await session.scalars(select(PrivacyRequest))).all() == [], "no account touched"
    status = await chat.say("what is the status of my request?")
    assert all(r.reference in status for r in found)


@pytest.mark.parametrize(
    ("opening", "further", "thanks"),
    [
        (
            "got a few texts recently and idk who from, who has my number??",
            "just make them stop",
            "thanks",
        ),
        (
            "jeg får sms fra et bageri gennem jer, hvem har givet dem mit nummer?",
            "kan i faa dem til at stoppe, begge to",
            "tak",
        ),
    ],
)
async def test_after_the_senders_are_asked_what_they_hold_a_stop_is_passed_on_too(
    client: Client, runtime: Runtime, opening: str, further: str, thanks: str
) -> None:
    chat = await WebChat.open(client)
    await chat.send(opening)
    await chat.send("+45 31 00 00 03")
    await chat.send(await latest_code(runtime.db, BOTH))
    assert {r.kind for r in await referrals(runtime)} == {"access"}
    passed = await chat.say(further)
    stops = [r for r in await referrals(runtime) if r.kind == "objection"]
    assert len(stops) == 2 and all(r.reference in passed for r in stops)
    closing = await chat.say(thanks)  # the offer is closed: thanks is thanks
    assert len(await referrals(runtime)) == 4 and "RF-" not in closing


async def test_a_number_whose_messages_are_anonymised_gets_the_honest_answer(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("Jeg fik for et par måneder siden nogle sms'er fra et bageri gennem jer")
    await chat.send("31 00 00 04")
    answer = await chat.say(await latest_code(runtime.db, OLD))
    assert "30 dage" in answer and "anonymiseret" in answer
    assert await referrals(runtime) == []


async def test_an_unknown_number_reads_the_same_as_a_known_one_until_verified(
    client: Client, runtime: Runtime
) -> None:
    answers = []
    for number in (BOTH, UNKNOWN):
        chat = await WebChat.open(client)
        await chat.say("I got an SMS through you from a company, who gave them my number?")
        reply = await chat.say(number)
        answers.append(reply.replace(number[-2:], "NN"))
    assert answers[0] == answers[1]


async def test_a_recipient_is_never_offered_to_close_an_account(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    values: list[str] = []
    for said in (
        "I keep getting texts from BensBikes through your system, make it stop",
        "+44 7700 900555",
    ):
        values += button_values(await chat.send(said))
    values += button_values(await chat.send(await latest_code(runtime.db, "+447700900555")))
    assert "erasure" not in values and "confirm" not in values
    [referral] = await referrals(runtime)
    assert referral.kind == "objection"


async def test_an_account_holder_is_not_taken_for_a_recipient(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send("I want to delete my account with you")
    assert "confirm" in button_values(replies)
    assert "mobile number" not in replies[-1]["text"]
