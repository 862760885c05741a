"""One-time codes: hashed, expiring, limited, and silent about whether an account exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage import conversations
from storage.db import Database
from storage.models import Conversation, OutboxMessage, VerificationCode
from storage.types import utcnow
from workflow import identity
from workflow.identity import CheckOutcome, Contact, StartOutcome

SECRET = b"k" * 32


async def _conversation(db: Database) -> str:
    async with db.transaction() as session:
        return conversations.create(session, "webchat", locale="da").id


def _code_from(text: str) -> str:
    code = identity.parse_code(text)
    assert code is not None
    return code


async def test_parse_contact_normalises_email_and_phone() -> None:
    assert identity.parse_contact("it is Anna@Example.DK thanks") == Contact(
        "email", "anna@example.dk"
    )
    assert identity.parse_contact("mit nummer er 20 00 00 01") == Contact("phone", "+4520000001")
    assert identity.parse_contact("+44 7700 900001") == Contact("phone", "+447700900001")
    assert identity.parse_contact("no contact here") is None
    assert identity.parse_code("koden er 123 456") == "123456"
    assert identity.parse_code("12345") is None


def test_the_digits_of_a_phone_number_are_no_code() -> None:
    assert identity.parse_code("my code: 482 193.") == "482193"
    assert identity.parse_code("123-456") == "123456"
    for text in ("oops typo, its 07700 900124 not 123", "+45 123456", "07700900124", "123 456 789"):
        assert identity.parse_code(text) is None, text


async def test_code_goes_to_the_registered_contact_and_verifies(seeded: Database) -> None:
    conversation_id = await _conversation(seeded)
    now = utcnow()
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        outcome = await identity.start(
            session, conversation, Contact("email", "anna@example.dk"), secret=SECRET, now=now
        )
    assert outcome is StartOutcome.SENT
    async with seeded.sessions() as session:
        sent = (await session.execute(select(OutboxMessage))).scalars().all()
        stored = (await session.execute(select(VerificationCode))).scalar_one()
    assert [(m.channel, m.to) for m in sent] == [("email", "anna@example.dk")]
    code = _code_from(sent[0].text)
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert "bekræftelseskode" in sent[0].text, "Danish conversation gets a Danish code message"
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        result = await identity.check(session, conversation, code, secret=SECRET, now=now)
        assert result.outcome is CheckOutcome.VERIFIED
        assert identity.verified_account(conversation, now + timedelta(minutes=14)) is not None
        assert identity.verified_account(conversation, now + timedelta(minutes=16)) is None
        again = await identity.check(session, conversation, code, secret=SECRET, now=now)
        assert again.outcome is CheckOutcome.NO_CODE, "a used code cannot be used twice"


async def test_unknown_contact_gets_the_same_outcome_but_nothing_is_sent(seeded: Database) -> None:
    conversation_id = await _conversation(seeded)
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        outcome = await identity.start(
            session,
            conversation,
            Contact("email", "nobody@example.org"),
            secret=SECRET,
            now=utcnow(),
        )
        assert outcome is StartOutcome.SENT
        for guess in ("000000", "123456", "999999", "111111"):
            result = await identity.check(session, conversation, guess, secret=SECRET, now=utcnow())
            assert result.outcome is CheckOutcome.WRONG
    async with seeded.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_codes_expire_and_allow_five_tries(seeded: Database) -> None:
    conversation_id = await _conversation(seeded)
    now = utcnow()
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        await identity.start(
            session, conversation, Contact("phone", "+4520000001"), secret=SECRET, now=now
        )
        code = _code_from((await session.execute(select(OutboxMessage.text))).scalar_one())
        late = now + timedelta(minutes=10, seconds=1)
        assert (
            await identity.check(session, conversation, code, secret=SECRET, now=late)
        ).outcome is (CheckOutcome.EXPIRED)
        wrong = "000000" if code != "000000" else "111111"
        outcomes = [
            (await identity.check(session, conversation, wrong, secret=SECRET, now=now))
            for _ in range(5)
        ]
        assert [r.tries_left for r in outcomes] == [4, 3, 2, 1, 0]
        assert outcomes[-1].outcome is CheckOutcome.EXHAUSTED
        final = await identity.check(session, conversation, code, secret=SECRET, now=now)
        assert final.outcome is CheckOutcome.EXHAUSTED, (
            "the right code is refused after 5 wrong tries"
        )


async def test_rate_limits_per_conversation_and_per_account(seeded: Database) -> None:
    now = utcnow()
    first = await _conversation(seeded)
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, first)
        assert conversation is not None
        contact = Contact("email", "ben@example.com")
        outcomes = [
            await identity.start(session, conversation, contact, secret=SECRET, now=now)
            for _ in range(4)
        ]
    assert outcomes == [StartOutcome.SENT] * 3 + [StartOutcome.CONVERSATION_LIMIT]
    for _ in range(2):  # two more conversations: 5 codes in total reach the account
        other = await _conversation(seeded)
        async with seeded.transaction() as session:
            conversation = await session.get(Conversation, other)
            assert conversation is not None
            await identity.start(session, conversation, contact, secret=SECRET, now=now)
    sixth = await _conversation(seeded)
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, sixth)
        assert conversation is not None
        assert (
            await identity.start(session, conversation, contact, secret=SECRET, now=now)
            is StartOutcome.SENT
        )
    async with seeded.sessions() as session:
        delivered = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert delivered == 5, "the account gets at most 5 codes an hour, silently"
    later = now + timedelta(hours=1, minutes=1)
    async with seeded.transaction() as session:
        conversation = await session.get(Conversation, first)
        assert conversation is not None
        assert (
            await identity.start(session, conversation, contact, secret=SECRET, now=later)
            is StartOutcome.SENT
        )
