"""Whole conversations through the web chat API, in both languages (issue 12).

Each test talks to the real web app over HTTP, reads codes from the outbox, lets an
agent decide with the workflow's own functions and runs the worker, then checks what
a customer would: the answer, the request opened (or not), the account, the email.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage.models import Consent, Person
from storage.privacy_models import PrivacyRequest, SupportCase
from tests.test_conversation_auth import latest_code, outbox
from tests.test_rights_end_to_end import approve_and_run, run_worker
from tests.webchat import WebChat, button_values

Client = TestClient[Any, Any]
ANNA, BEN = "anna@example.dk", "ben@example.com"


async def requests_opened(runtime: Runtime) -> list[PrivacyRequest]:
    async with runtime.db.sessions() as session:
        return list(
            (await session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id))).all()
        )


async def person(runtime: Runtime, account_email: str) -> Person:
    async with runtime.db.sessions() as session:
        account_id = await session.scalar(
            select(Person.account_id).where(Person.email == account_email)
        )
        found = await session.scalar(select(Person).where(Person.account_id == account_id))
    assert found is not None
    return found


async def verify(chat: WebChat, runtime: Runtime, contact: str, typed: str | None = None) -> str:
    """Answer the contact question and type the code from the outbox."""
    await chat.send(typed or contact)
    return await chat.say(await latest_code(runtime.db, contact))


# --- policy questions and complaints -------------------------------------------------


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        ("hvor længe gemmer I mine sms'er?", ["30 dage", "4 cifre"]),
        ("sælger I mine data til andre firmaer?", ["sælger ikke", "underleverandører"]),
        ("do you sell my data?", ["do not sell", "sub-suppliers"]),
        ("Who is the data controller? And what is your legal basis?", ["27364276", "6(1)"]),
        ("Hvad får I at vide om mig, hvis jeg logger ind med Google?", ["navn", "e-mailadresse"]),
        ("Where do you store our data, is it in the US?", ["EU", "Privacy Shield", "2020"]),
    ],
)
async def test_a_policy_question_is_answered_from_the_policy_and_opens_nothing(
    client: Client, runtime: Runtime, question: str, facts: list[str]
) -> None:
    chat = await WebChat.open(client)
    answer = await chat.say(question)
    for fact in facts:
        assert fact in answer, answer
    assert await requests_opened(runtime) == []


@pytest.mark.parametrize(
    ("complaint", "words"),
    [
        ("jeg vil klage over hvordan I har behandlet mine oplysninger!!", "Datatilsynet"),
        ("how do I complain to the Danish data protection authority", "Datatilsynet"),
    ],
)
async def test_a_complaint_is_acknowledged_with_the_ways_to_complain_and_a_person(
    client: Client, runtime: Runtime, complaint: str, words: str
) -> None:
    chat = await WebChat.open(client)
    answer = await chat.say(complaint)
    assert words in answer and "info@onlinecity.io" in answer
    assert await requests_opened(runtime) == []


async def test_an_angry_complaint_opens_a_support_case_for_a_person(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    answer = await chat.say("Jeg vil klage. I har sendt mig reklamer i månedsvis!!")
    assert "ked af" in answer.split(".")[0], "the anger is acknowledged first"
    async with runtime.db.sessions() as session:
        cases = (await session.scalars(select(SupportCase))).all()
    assert [(c.conversation_id, c.reason, c.closed_at) for c in cases] == [
        (chat.id, "complaint", None)
    ]


async def test_a_complaint_beside_a_request_is_taken_and_the_request_read_back(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send(
        "I am absolutely furious. Your system blocked our account automatically on sale day. "
        "I want a real human being to review that automatic block, and I want to make a "
        "formal complaint about how this was handled."
    )
    texts = " ".join(r["text"] for r in replies)
    assert "info@onlinecity.io" in texts and "confirm" in button_values(replies)
    assert sum("sorry" in r["text"].casefold() for r in replies) == 1
    async with runtime.db.sessions() as session:
        cases = (await session.scalars(select(SupportCase))).all()
    assert [(c.reason, c.closed_at) for c in cases] == [("complaint", None)]
    assert await requests_opened(runtime) == []  # the review waits for its yes


async def test_a_complaint_that_wants_the_account_deleted_is_taken_and_the_erasure_read_back(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send(
        "I'm honestly furious. I got a text from some 'partner' of yours on my personal "
        "mobile. I want to file a complaint about this, and I want my account deleted. Today."
    )
    texts = " ".join(r["text"] for r in replies)
    assert "info@onlinecity.io" in texts and "confirm" in button_values(replies)
    assert "delete" in replies[-1]["text"]
    async with runtime.db.sessions() as session:
        assert [c.reason for c in (await session.scalars(select(SupportCase))).all()] == [
            "complaint"
        ]


async def test_a_language_named_as_what_a_text_is_in_switches_nothing(client: Client) -> None:
    chat = await WebChat.open(client)
    said = await chat.say(
        "I read your privacy policy but it's in Danish and the translation was a mess. "
        "What personal data do you actually collect when someone signs up?"
    )
    assert "IP address" in said and "IP-adresse" not in said


# --- slots read from the message and read back -------------------------------------


@pytest.mark.parametrize(
    ("said", "contact", "new"),
    [
        (
            "the email on our account is still ben@example.com and it needs to be "
            "ben@bensbikes.co.uk now",
            BEN,
            "ben@bensbikes.co.uk",
        ),
        (
            "mailen på vores konto er stadig anna@example.dk men den skal være "
            "anna@annasbageri.dk nu",
            ANNA,
            "anna@annasbageri.dk",
        ),
    ],
)
async def test_old_and_new_email_in_one_message_store_the_new_one(
    client: Client, runtime: Runtime, tmp_path: Path, said: str, contact: str, new: str
) -> None:
    chat = await WebChat.open(client)
    readback = await chat.say(said)
    assert new in readback and contact not in readback, "the new value is read back"
    await chat.send("yes" if contact == BEN else "ja")
    asked_new = await verify(chat, runtime, contact)
    assert new in asked_new, "the code goes to the new address"
    sent = [m for m in await outbox(runtime.db) if m.to == new]
    assert len(sent) == 1, "one code to the new address, none to the old for it"
    registered = await chat.say(await latest_code(runtime.db, new))
    [request] = await requests_opened(runtime)
    assert request.reference in registered
    assert (request.kind, request.details["field"], request.details["value"]) == (
        "rectification",
        "email",
        new,
    )
    await approve_and_run(runtime, request.reference, tmp_path)
    assert (await person(runtime, new)).email == new


async def test_the_new_email_is_read_when_another_field_is_only_mentioned(
    client: Client,
) -> None:
    chat = await WebChat.open(client)
    said = await chat.say(
        "We got a proper domain, so we're retiring the old address. The email on our account "
        "is still ben@example.com and it needs to be ben@bensbikes.co.uk now."
    )
    assert "ben@bensbikes.co.uk" in said and "email" in said


async def test_a_value_equal_to_the_current_one_is_said_so(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("I need to change the phone number on my account")
    await chat.send("yes")
    await verify(chat, runtime, BEN)
    answer = await chat.say("+44 7700 900001")
    assert "already on your account" in answer and "new phone number" in answer


async def test_a_typo_in_the_new_value_is_fixed_at_the_code_step(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("please change my email to ben@bensbikes.co.ku")
    await chat.send("go ahead")
    await verify(chat, runtime, BEN)
    fixed = await chat.say("sorry, typo: it's ben@bensbikes.co.uk")
    assert "ben@bensbikes.co.uk" in fixed
    await chat.send(await latest_code(runtime.db, "ben@bensbikes.co.uk"))
    [request] = await requests_opened(runtime)
    assert request.details["value"] == "ben@bensbikes.co.uk"
    to_fixed = [m for m in await outbox(runtime.db) if m.to == "ben@bensbikes.co.uk"]
    assert len(to_fixed) == 1, "the corrected address got its own code"


async def test_a_typo_in_a_new_company_name_is_fixed_at_the_code_step(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await WebChat.open(client)
    await chat.say("Firmanavnet skal nu hedde Annas Bagri & Café ApS. Kan I rette det?")
    await chat.send("ja tak")
    await chat.send(ANNA)  # the code is on its way
    fixed = await chat.say("Undskyld, stavefejl. Det skal være Annas Bageri & Café ApS, med e.")
    assert "Annas Bageri & Café ApS" in fixed
    await chat.send(await latest_code(runtime.db, ANNA))
    [request] = await requests_opened(runtime)
    assert request.details == {"field": "company", "value": "Annas Bageri & Café ApS"}


@pytest.mark.parametrize(
    ("said", "yes", "purposes"),
    [
        ("please stop the newsletter, just the newsletter", "sure", ["marketing_email"]),
        ("stop jeres nyhedsbrev og tracking", "jep", ["marketing_email", "tracking"]),
    ],
)
async def test_purposes_named_in_the_message_are_not_asked_again(
    client: Client, runtime: Runtime, tmp_path: Path, said: str, yes: str, purposes: list[str]
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send(said)
    assert "confirm" in button_values(replies)
    await chat.send(yes)
    contact = BEN if said.startswith("please") else ANNA
    done = await verify(chat, runtime, contact)
    assert "PR-" in done, "registered straight away, no question about purposes"
    [request] = await requests_opened(runtime)
    assert sorted(request.details["purposes"]) == sorted(purposes)
    await run_worker(runtime, tmp_path)
    async with runtime.db.sessions() as session:
        account = (await person(runtime, contact)).account_id
        off = {
            c.purpose
            for c in (await session.scalars(select(Consent).where(Consent.account_id == account)))
            if not c.granted
        }
    assert set(purposes) <= off


@pytest.mark.parametrize("ok", ["okay", "ja tak"])
async def test_an_ok_when_nothing_was_asked_gets_a_short_answer(
    client: Client, runtime: Runtime, ok: str
) -> None:
    chat = await WebChat.open(client)
    answer = await chat.send("hvor længe gemmer I mine sms'er?")
    assert "erasure" in button_values(answer)  # offered, not asked
    said = await chat.say(ok)
    assert said == "Godt. Er der andet, jeg kan hjælpe med?"
    assert await requests_opened(runtime) == []


async def test_a_typo_in_a_new_name_is_fixed_when_it_is_read_back(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.send("need to change the name on my account pls")
    await chat.send("yep")
    await verify(chat, runtime, BEN)
    assert "Benjamn Carter" in await chat.say("Benjamn Carter")
    fixed = await chat.say("oops typo - its Benjamin Carter")
    assert "Benjamin Carter" in fixed and "Benjamn" not in fixed
    await chat.send("yep")
    [request] = await requests_opened(runtime)
    assert request.details == {"field": "name", "value": "Benjamin Carter"}


async def test_a_national_number_is_read_as_the_registered_one(
    client: Client, runtime: Runtime
) -> None:
    """Anna's Danish number typed without +45 in an English chat."""
    chat = await WebChat.open(client)
    await chat.send("please stop the newsletter")
    await chat.send("yes")
    said = await chat.say("20000001")
    assert "+45" in said
    assert any(m.to == "+4520000001" for m in await outbox(runtime.db))


async def test_two_corrections_in_one_message_open_one_request_each(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    first = await chat.say(
        "Please amend two details: my name ought to read Benjamin Carter rather than Ben "
        "Carter, and our postal address has changed to 12 Harbour Road, Bristol BS1 5TT."
    )
    assert "Benjamin Carter" in first and "12 Harbour Road" not in first
    await chat.send("yes")
    second = await verify(chat, runtime, BEN)
    assert "12 Harbour Road, Bristol BS1 5TT" in second
    await chat.send("yes")
    opened = [r.details for r in await requests_opened(runtime) if r.kind == "rectification"]
    assert opened == [
        {"field": "name", "value": "Benjamin Carter"},
        {"field": "address", "value": "12 Harbour Road, Bristol BS1 5TT"},
    ]


@pytest.mark.parametrize(
    ("said", "sorry"),
    [
        ("pls stop profiling me, its creepy tbh", "sorry for the trouble"),
        ("slet min konto, det er helt uacceptabelt", "ked af besværet"),
    ],
)
async def test_an_upset_customer_hears_sorry_once_with_the_read_back(
    client: Client, said: str, sorry: str
) -> None:
    chat = await WebChat.open(client)
    replies = await chat.send(said)
    texts = [reply["text"] for reply in replies]
    assert sum(sorry in text.casefold() for text in texts) == 1, texts
    assert sorry in texts[0].casefold() and "confirm" in button_values(replies)


async def test_glad_news_with_exclamation_marks_gets_no_apology(client: Client) -> None:
    chat = await WebChat.open(client)
    said = await chat.say("vi er flyttet!! ny adresse er Møllevej 12, 8000 Aarhus C")
    assert "ked af" not in said
    assert "Møllevej 12, 8000 Aarhus C" in said and "adresse er Møllevej" not in said


async def test_several_rights_in_one_message_after_one_verification_each_confirmed(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    first = await chat.say(
        "hej to ting: ret vores tlf nr til 22 33 44 55 og sluk for jeres tracking"
    )
    assert "+4522334455" in first and "Bagefter" in first
    await chat.send("jaja")
    await verify(chat, runtime, ANNA)
    replies = await chat.send(await latest_code(runtime.db, "+4522334455"))
    text = "\n".join(r["text"] for r in replies)
    assert "Næste" in text and "confirm" in button_values(replies), "the next right, confirmed"
    await chat.send("ja")
    kinds = [r.kind for r in await requests_opened(runtime)]
    assert kinds == ["rectification", "objection"]
    codes = [m for m in await outbox(runtime.db) if m.to == ANNA]
    assert len([m for m in codes if "PR-" not in m.text]) == 1, "one verification for both"


# --- dialog acts at every step ------------------------------------------------------


@pytest.mark.parametrize("yes", ["jep", "jaja", "yep", "go ahead", "sure", "👍", "ok do it"])
async def test_ordinary_yes_words_continue_the_flow(
    client: Client, runtime: Runtime, yes: str
) -> None:
    chat = await WebChat.open(client)
    await chat.say("I'd like a copy of my data")
    asked = await chat.say(yes)
    assert "email address or phone number" in asked or "e-mailadresse" in asked


async def test_no_code_offers_resend_the_other_contact_and_the_spam_folder(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("I want a copy of my data")
    await chat.send("yes")
    await chat.send("+44 7700 900001")
    help_text = await chat.say("I haven't received anything, maybe it's under ben@example.com")
    assert "b***@example.com" in help_text, "the code goes to the other contact"
    verified = await chat.say(await latest_code(runtime.db, BEN))
    assert "PR-" in verified
    chat2 = await WebChat.open(client)
    await chat2.say("I want a copy of my data")
    await chat2.send("yes")
    await chat2.send(BEN)
    answer = await chat2.say("I didn't get a code")
    assert "spam" in answer and "resend" in button_values(await chat2.send("no code came"))


@pytest.mark.parametrize(
    ("thanks", "expected", "language"),
    [("tak for hjælpen", "Selv tak", "da"), ("thanks, bye!", "Goodbye", "en")],
)
async def test_thanks_and_goodbye_get_a_short_answer(
    client: Client, runtime: Runtime, thanks: str, expected: str, language: str
) -> None:
    chat = await WebChat.open(client, locale=language)
    replies = await chat.send(thanks)
    assert expected in replies[0]["text"]
    assert len(replies[0]["text"].split()) <= 15 and not replies[0]["buttons"]


async def test_how_long_is_answered_at_the_code_step_without_losing_it(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("Jeg vil gerne have en kopi af mine data")
    await chat.send("ja")
    await chat.send(ANNA)
    answer = await chat.say("hvor lang tid tager det?")
    assert "én måned" in answer and "koden" in answer, "answered, then reminded of the code"
    verified = await chat.say(await latest_code(runtime.db, ANNA))
    assert "PR-" in verified


# --- outcomes reach the customer, the truth, brevity, language, phone formats -------


async def test_every_outcome_also_goes_to_the_verified_email_in_the_chats_language(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await WebChat.open(client)
    await chat.say("Jeg vil gerne have en kopi af mine data")
    await chat.send("ja")
    await verify(chat, runtime, ANNA)
    [request] = await requests_opened(runtime)
    await approve_and_run(runtime, request.reference, tmp_path)
    notices = [m for m in await outbox(runtime.db) if m.to == ANNA and request.reference in m.text]
    texts = " ".join(m.text for m in notices)
    assert "godkendt" in texts and "/downloads/" in texts, texts
    assert all(m.channel == "email" and m.subject for m in notices)


async def test_status_in_a_new_chat_lists_requests_with_their_link_and_no_deadline_when_done(
    client: Client, runtime: Runtime, tmp_path: Path
) -> None:
    chat = await WebChat.open(client)
    await chat.say("I want a copy of my data")
    await chat.send("yes")
    await verify(chat, runtime, BEN)
    [request] = await requests_opened(runtime)
    await approve_and_run(runtime, request.reference, tmp_path)
    later = await WebChat.open(client)
    await later.say("what's the status of my request?")
    status = await verify(later, runtime, BEN)
    line = next(line for line in status.splitlines() if request.reference in line)
    assert "/downloads/" in line and "due" not in line.lower()


async def test_a_code_is_never_claimed_to_be_sent_and_unknown_contacts_read_the_same(
    client: Client, runtime: Runtime
) -> None:
    answers = []
    for contact in (BEN, "nobody@example.org"):
        chat = await WebChat.open(client)
        await chat.say("I want a copy of my data")
        await chat.send("yes")
        answers.append((await chat.say(contact)).replace(contact[:1], "?", 1))
    assert "we have just sent" not in answers[0] and "is on its way" in answers[0]
    masked = [a.split("If ")[1].split(" is registered")[0] for a in answers]
    assert answers[0].replace(masked[0], "X") == answers[1].replace(masked[1], "X")


async def test_confirmations_are_brief_with_the_detail_behind_more(
    client: Client, runtime: Runtime
) -> None:
    for said in ("I want my account deleted", "Jeg vil gerne have en kopi af mine data"):
        chat = await WebChat.open(client)
        replies = await chat.send(said)
        confirmation = replies[-1]
        assert len(confirmation["text"].split()) <= 45, confirmation["text"]
        assert "more" in [b["value"] for b in confirmation["buttons"]]
        more = await chat.send(button="more")
        assert len(more[0]["text"].split()) > 20


async def test_one_english_word_does_not_switch_a_danish_conversation(
    client: Client, runtime: Runtime
) -> None:
    chat = await WebChat.open(client)
    await chat.say("Jeg vil gerne have en kopi af mine data")
    asked = await chat.say("yes")
    assert "e-mailadresse" in asked, "still Danish"
    await chat.send(ANNA)
    [code] = [m for m in await outbox(runtime.db) if m.to == ANNA]
    assert "kode" in code.text.lower(), "the code email is Danish too"


@pytest.mark.parametrize("typed", ["07700900001", "447700900001", "+44 7700 900001"])
async def test_uk_phone_numbers_in_national_and_international_forms(
    client: Client, runtime: Runtime, typed: str
) -> None:
    chat = await WebChat.open(client)
    await chat.say("I want a copy of my data")
    await chat.send("yes")
    await chat.send(typed)
    assert [m.to for m in await outbox(runtime.db)] == ["+447700900001"]


async def test_the_danish_wording_reads_naturally(client: Client, runtime: Runtime) -> None:
    chat = await WebChat.open(client)
    await chat.say("ret mit telefonnummer til 22 33 44 55")
    await chat.send("ja")
    asked = await verify(chat, runtime, ANNA)
    assert "tilhører dig" in asked and "er din" not in asked
    chat2 = await WebChat.open(client)
    await chat2.say("jeg vil rette firmanavnet på min konto")
    await chat2.send("ja")
    asked = await verify(chat2, runtime, ANNA)
    assert "Hvad er det nye firmanavn?" in asked and "værdi" not in asked
