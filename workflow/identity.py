"""Verifying who the customer is (GDPR Art. 12(6)) with a one-time code.

The code goes to a contact detail already registered on the account, never to an
address typed into the chat. Codes are stored as keyed hashes, expire after ten
minutes, allow five tries, and are rate-limited per conversation and per account.
Nothing the customer sees depends on whether an account exists: an unknown address
gets the same answer and an equally "pending" code that can never match.

A code that was not delivered (the account had its codes for the hour, or is locked)
is stored as not delivered: it can never match. Wrong codes count against the
account in the database, at most ten an hour across conversations, channels and
processes (`workflow.code_guard`); after that every code is refused (LOCKED).
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import _, use
from storage import account_store, keys
from storage.account_store import FoundAccount
from storage.models import Conversation, OutboxMessage, VerificationCode
from workflow import code_guard

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
CODES_PER_CONVERSATION_PER_HOUR = 3
CODES_PER_ACCOUNT_PER_HOUR = 5
VERIFIED_FOR = timedelta(minutes=15)

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# six digits on their own: not part of a longer number such as "07700 900124"
_CODE_IN_TEXT = re.compile(r"(?<![\d+])(?<!\d[ -])(\d{3})[ -]?(\d{3})(?!\d)(?![ -]\d)")


@dataclass(frozen=True, slots=True)
class Contact:
    """A normalised email address (lower case) or phone number (E.164)."""

    kind: str  # "email" | "phone"
    value: str


def parse_email(text: str) -> Contact | None:
    match = _EMAIL_IN_TEXT.search(text)
    if match is None or not _EMAIL.match(match.group(0)):
        return None
    return Contact("email", match.group(0).lower())


def parse_phone(text: str, region: str = "DK") -> Contact | None:
    """A phone number in the text, as E.164; Danish numbers may omit +45."""
    # POSSIBLE rather than VALID: reserved ranges (such as the demo accounts' numbers) are
    # real enough to look up, and a wrong number simply matches no account.
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        if phonenumbers.is_possible_number(match.number):
            return Contact(
                "phone",
                phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164),
            )
    return None


def parse_contact(text: str) -> Contact | None:
    """The email address or phone number the customer typed, if any."""
    return parse_email(text) or parse_phone(text)


def parse_code(text: str) -> str | None:
    """Six digits, also when typed as '123 456' or '123-456'."""
    match = _CODE_IN_TEXT.search(text)
    return match.group(1) + match.group(2) if match else None


def _code_hash(secret: bytes, conversation_id: str, code: str) -> str:
    return keys.mac_hex(secret, keys.VERIFICATION_CODE, f"{conversation_id}:{code}")


def mask(contact: Contact) -> str:
    """Enough to recognise one's own contact detail, not enough to learn someone else's."""
    if contact.kind == "email":
        local, _sep, domain = contact.value.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{contact.value[:3]}******{contact.value[-2:]}"


class StartOutcome(enum.Enum):
    SENT = "sent"  # also the answer when no account matched: the customer can't tell
    CONVERSATION_LIMIT = "conversation_limit"


class CheckOutcome(enum.Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    NO_CODE = "no_code"
    LOCKED = "locked"  # ten wrong codes for this account (or address) within the hour


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: CheckOutcome
    tries_left: int = 0
    account_id: int | None = None


async def find_person(session: AsyncSession, contact: Contact) -> FoundAccount | None:
    """The active account with this contact detail, looked up through the data map in the
    account store (the bot's own database or ACCOUNT_STORE_URL)."""
    return await account_store.find_account(session, contact.kind, contact.value)


async def _codes_since(session: AsyncSession, since: datetime, **where: object) -> int:
    stmt = (
        select(func.count())
        .select_from(VerificationCode)
        .where(VerificationCode.created_at >= since)
    )
    for column, value in where.items():
        stmt = stmt.where(getattr(VerificationCode, column) == value)
    return int(await session.scalar(stmt) or 0)


async def start(
    session: AsyncSession,
    conversation: Conversation,
    contact: Contact,
    *,
    secret: bytes,
    now: datetime,
    purpose: str = "login",
    account_id: int | None = None,
) -> StartOutcome:
    """Issue a code for `contact`, if it belongs to an account, and queue it for delivery.

    `purpose="login"` looks the contact up among registered contacts. For
    `purpose="new_contact"` (confirming a new email/phone before a rectification) the
    code goes to the new contact itself, for the already verified `account_id`. For
    `purpose="recipient"` (someone who received an SMS through us proves they hold the
    number) it goes to the number itself, with the same limits per number as per account.
    """
    hour_ago = now - timedelta(hours=1)
    if (
        await _codes_since(session, hour_ago, conversation_id=conversation.id)
        >= CODES_PER_CONVERSATION_PER_HOUR
    ):
        return StartOutcome.CONVERSATION_LIMIT
    recipient: str | None = None
    language = conversation.locale
    if purpose == "login":
        person = await find_person(session, contact)
        if person is not None:
            account_id = person.account_id
            recipient = person.email if contact.kind == "email" else person.phone
    else:
        recipient = contact.value
    hashed = None
    if account_id is None:
        hashed = code_guard.contact_hash(secret, contact.kind, contact.value)
        if recipient is not None and (
            await _codes_since(session, hour_ago, contact_hash=hashed, delivered=True)
            >= CODES_PER_ACCOUNT_PER_HOUR
            or await code_guard.is_locked(session, code_guard.contact_subject(hashed), now)
        ):
            recipient = None  # a number's hourly codes are used up, as an account's are
    elif await _codes_since(
        session, hour_ago, account_id=account_id, delivered=True
    ) >= CODES_PER_ACCOUNT_PER_HOUR or await code_guard.is_locked(
        session, code_guard.account_subject(account_id), now
    ):
        recipient = None  # same answer as ever, but nothing is sent and the row can never match
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        VerificationCode(
            conversation_id=conversation.id,
            account_id=account_id,
            delivered=recipient is not None,
            contact_hash=hashed,
            purpose=purpose,
            channel="email" if contact.kind == "email" else "sms",
            code_hash=_code_hash(secret, conversation.id, code),
            expires_at=now + CODE_TTL,
            created_at=now,
        )
    )
    if recipient is not None:
        with use(language):
            text = _(
                "Your GatewayAPI verification code is {code}. It expires in 10 minutes. "
                "If you did not ask for it, ignore this message."
            ).format(code=code)
            subject = _("Your verification code")
        session.add(
            OutboxMessage(
                channel="email" if contact.kind == "email" else "sms",
                to=recipient,
                subject=subject if contact.kind == "email" else None,
                text=text,
                created_at=now,
                next_attempt_at=now,
            )
        )
    return StartOutcome.SENT


async def check(
    session: AsyncSession,
    conversation: Conversation,
    code: str,
    *,
    secret: bytes,
    now: datetime,
    purpose: str = "login",
) -> CheckResult:
    """Compare `code` with the conversation's newest open code of this purpose."""
    stmt = (
        select(VerificationCode)
        .where(
            VerificationCode.conversation_id == conversation.id,
            VerificationCode.purpose == purpose,
            VerificationCode.used_at.is_(None),
        )
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return CheckResult(CheckOutcome.NO_CODE)
    if row.account_id is not None:
        guarded: str | None = code_guard.account_subject(row.account_id)
    else:
        guarded = code_guard.contact_subject(row.contact_hash) if row.contact_hash else None
    if guarded is not None and await code_guard.is_locked(session, guarded, now):
        return CheckResult(CheckOutcome.LOCKED)
    if row.attempts >= MAX_TRIES:
        return CheckResult(CheckOutcome.EXHAUSTED)
    if row.expires_at <= now:
        return CheckResult(CheckOutcome.EXPIRED)
    matches = keys.same(row.code_hash, _code_hash(secret, conversation.id, code))
    if not matches or not row.delivered:
        row.attempts += 1
        left = MAX_TRIES - row.attempts
        if guarded is not None:
            allowed = await code_guard.record_wrong(session, guarded, now)
            if allowed == 0:
                return CheckResult(CheckOutcome.LOCKED)
            left = min(left, allowed)
        return CheckResult(CheckOutcome.WRONG if left > 0 else CheckOutcome.EXHAUSTED, left)
    row.used_at = now
    if purpose == "login":
        conversation.account_id = row.account_id
        conversation.verified_until = now + VERIFIED_FOR
        conversation.verified_via = f"{row.channel}_code"
    return CheckResult(CheckOutcome.VERIFIED, account_id=row.account_id)


def verify_by_platform_phone(conversation: Conversation, account_id: int, now: datetime) -> None:
    """A phone number the platform vouches for (Telegram shared contact) verifies too."""
    conversation.account_id = account_id
    conversation.verified_until = now + VERIFIED_FOR
    conversation.verified_via = "telegram_contact"


def verified_account(conversation: Conversation, now: datetime) -> int | None:
    """The verified account id while the verification is fresh, else None."""
    if conversation.account_id is None or conversation.verified_until is None:
        return None
    return conversation.account_id if conversation.verified_until > now else None
