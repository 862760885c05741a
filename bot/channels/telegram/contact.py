"""A shared contact as proof of a phone number (the `request_contact` keyboard).

Telegram vouches for a contact's number only when the customer shares their *own*
contact: then `contact.user_id` is the sender's id. A contact card forwarded from
someone's address book has another (or no) user_id and proves nothing, so it is
refused. An own number counts when it equals, in E.164, the phone number of a person on
an active account; the conversation is then marked verified inside the turn's
transaction (`workflow.identity.verify_by_platform_phone`), and `handlers.auth` finds
nothing left to ask. An own number on no account goes on as if typed: the ordinary
one-time-code flow, with the same words as ever, so nothing reveals whether an account
exists.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from aiogram.types import Contact as TelegramContact
from aiogram.types import User
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation
from workflow import identity


def e164(number: str) -> str | None:
    """A phone number as E.164; Telegram sends international numbers, often without '+'."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return None
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def own_phone(contact: TelegramContact, sender: User | None) -> str | None:
    """The contact's number in E.164 when the sender shared their own contact, else None."""
    if sender is None or contact.user_id is None or contact.user_id != sender.id:
        return None
    return e164(contact.phone_number)


async def verify(
    session: AsyncSession, conversation: Conversation, phone: str, now: datetime
) -> bool:
    """Mark the conversation verified when `phone` (E.164, vouched for by Telegram) is the
    phone number of a person on an active account. True when it was."""
    person = await identity.find_person(session, identity.Contact("phone", phone))
    if person is None or person.phone is None or e164(person.phone) != phone:
        return False
    identity.verify_by_platform_phone(conversation, person.account_id, now)
    return True
