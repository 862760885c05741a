"""The "prove it's you" part of a dialog: contact detail in, one-time code back.

Used by every flow that shows or changes something personal. The wording never
reveals whether an account exists: the same words follow a known and an unknown
address, and they never claim a code was sent, because for an unknown address (or one
that has had its codes for the hour) none is.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from handlers import menu, values
from handlers.state import Step
from handlers.turn import Turn
from handlers.types import Button
from locales import _
from workflow import contacts, identity

NO_CODE = "no_code"
RESEND = "resend"


def is_verified(turn: Turn) -> bool:
    return account_id(turn) is not None


def account_id(turn: Turn) -> int | None:
    """The verified account while the verification is fresh, else None."""
    return identity.verified_account(turn.conversation, turn.now())


def region_hints(turn: Turn) -> tuple[str, ...]:
    return contacts.regions(turn.language)


def ask_for_contact(turn: Turn, *, again: bool = False) -> None:
    turn.dialog.step = Step.IDENTIFY
    if again:
        text = _(
            "Your verification has expired, so I need to confirm it's you again. What is the "
            "email address or phone number registered on your account?"
        )
    else:
        text = _(
            "First I need to confirm it's you with a one-time code. What is the email address "
            "or phone number registered on your account?"
        )
    turn.say(text, (menu.cancel_button(),))


def _code_buttons() -> tuple[Button, ...]:
    return (Button(_("I didn't get a code"), NO_CODE), menu.cancel_button())


def say_code_limit(turn: Turn) -> None:
    """This conversation asked for too many codes within the hour."""
    turn.say(
        _(
            "You have asked for several codes in a short time. Please wait an hour and "
            "try again, or ask to talk to a person."
        ),
        menu.buttons_for(("handover",)),
    )


async def send_code(turn: Turn, contact: identity.Contact) -> None:
    """Ask for a code to `contact`; the answer is the same whether or not it is registered."""
    outcome = await identity.start(
        turn.session, turn.conversation, contact, secret=turn.services.secret, now=turn.now()
    )
    if outcome is identity.StartOutcome.CONVERSATION_LIMIT:
        turn.dialog.step = Step.IDENTIFY
        say_code_limit(turn)
        return
    turn.dialog.step = Step.CODE
    turn.dialog.contact = {"kind": contact.kind, "value": contact.value}
    turn.say(
        _(
            "If {contact} is registered on an account, a 6-digit code is on its way to it. "
            "Please type the code here; it is valid for 10 minutes."
        ).format(contact=identity.mask(contact)),
        _code_buttons(),
    )


async def on_identify(turn: Turn) -> None:
    contact = contacts.parse_contact(turn.text, region_hints(turn))
    if contact is None:
        turn.say(
            _(
                "That doesn't look like an email address or a phone number. Please type the "
                "email address or phone number registered on your account."
            ),
            (menu.cancel_button(),),
        )
        return
    await send_code(turn, await _registered_reading(turn, contact))


async def _registered_reading(turn: Turn, typed: identity.Contact) -> identity.Contact:
    """A national number typed without its country ("20000001" in an English chat) may
    read as a number of several countries: the one registered on an account is meant.
    (The answer to the customer is the same either way, so nothing is revealed.)"""
    if typed.kind != "phone":
        return typed
    readings = dict.fromkeys(
        [typed.value]
        + [
            found.value
            for region in region_hints(turn)
            if (found := contacts.parse_phone(turn.text, (region,))) is not None
        ]
    )
    if len(readings) > 1:
        for value in readings:
            reading = identity.Contact("phone", value)
            if await identity.find_person(turn.session, reading):
                return reading
    return typed


def _no_code_help(turn: Turn) -> None:
    """The customer did not get the code: resend, the other contact, the spam folder."""
    turn.say(
        _(
            "Sorry about that. An email can take a minute and sometimes lands in the spam "
            "folder. I can send a new code, or you can type the other email address or "
            "phone number on your account and I'll send it there. When the code arrives, "
            "type it here."
        ),
        (Button(_("Send a new code"), RESEND), menu.cancel_button()),
    )


async def on_code(turn: Turn) -> bool:
    """True once the customer is verified; otherwise explains what to do next."""
    act = turn.understanding.act if turn.understanding is not None else None
    if turn.incoming.button == RESEND:
        await _resend(turn)
        return False
    if turn.incoming.button == NO_CODE:
        _no_code_help(turn)
        return False
    code = identity.parse_code(turn.text)
    if code is None:
        other = contacts.parse_contact(turn.text, region_hints(turn))
        corrected = (
            other.value
            if other is not None and _corrects_new_value(turn, other)
            else _corrected_text(turn)
        )
        if corrected is not None:
            turn.dialog.slots["value"] = corrected
            turn.say(
                _("Got it: the new value is {value}. Now type the code I sent you.").format(
                    value=corrected
                ),
                _code_buttons(),
            )
            return False
        if other is not None:  # "maybe it's under ben@example.com": send it there
            await send_code(turn, other)
            return False
        if act == NO_CODE:
            _no_code_help(turn)
            return False
        turn.say(_("Please type the 6-digit code we sent you."), _code_buttons())
        return False
    result = await identity.check(
        turn.session, turn.conversation, code, secret=turn.services.secret, now=turn.now()
    )
    outcome = result.outcome
    if outcome is identity.CheckOutcome.VERIFIED:
        turn.dialog.contact = None
        turn.say(_("Thank you, you are verified."))
        return True
    if outcome is identity.CheckOutcome.WRONG:
        turn.say(
            _(
                "That code is not right. Please type the code again; you have {tries} tries left."
            ).format(tries=result.tries_left),
            _code_buttons(),
        )
        return False
    turn.dialog.step = Step.IDENTIFY
    if outcome is identity.CheckOutcome.LOCKED:
        turn.say(
            _(
                "Too many wrong codes have been typed, so codes are paused for up to an hour. "
                "Please try again later, or ask to talk to a person."
            ),
            (*menu.buttons_for(("handover",)), menu.cancel_button()),
        )
    elif outcome is identity.CheckOutcome.EXPIRED:
        turn.say(
            _(
                "That code has expired. Type your email address or phone number again and "
                "I'll send a new one."
            ),
            (menu.cancel_button(),),
        )
    elif outcome is identity.CheckOutcome.EXHAUSTED:
        turn.say(
            _(
                "Too many wrong tries, so that code no longer works. Type your email address "
                "or phone number again to get a new one."
            ),
            (menu.cancel_button(),),
        )
    else:
        ask_for_contact(turn)
    return False


# fields whose new value is free text
TEXT_FIELDS = frozenset({"name", "company", "address"})


def _corrects_new_value(turn: Turn, typed: identity.Contact) -> bool:
    """A contact typed while a correction's new value waits, that resembles that value
    more than the contact the code went to: the customer is fixing a typo in it."""
    pending = turn.dialog.slots.get("value")
    if not isinstance(pending, str) or turn.dialog.slots.get("field") != typed.kind:
        return False
    sent_to = (turn.dialog.contact or {}).get("value", "")
    if typed.value in (pending, sent_to):
        return False
    return fuzz.ratio(typed.value, pending) > max(values.SIMILAR, fuzz.ratio(typed.value, sent_to))


def _corrected_text(turn: Turn) -> str | None:
    """A new name, company name or address written while the code is awaited, that
    resembles the one waiting ("sorry, typo: it should be Annas Bageri & Café ApS")."""
    field, pending = turn.dialog.slots.get("field"), turn.dialog.slots.get("value")
    if field not in TEXT_FIELDS or not isinstance(pending, str):
        return None
    return values.corrected_value(turn.text, str(field), pending)


async def _resend(turn: Turn) -> None:
    stored = turn.dialog.contact
    if stored is None:
        ask_for_contact(turn)
        return
    await send_code(turn, identity.Contact(stored["kind"], stored["value"]))


async def step(turn: Turn) -> bool:
    """Run the current authentication step; True when the customer is verified.

    A channel that can vouch for the customer itself (a Telegram contact shared by its
    owner, matching the account's phone) marks the conversation verified before the
    turn; then there is nothing left to ask.
    """
    if is_verified(turn):
        return True
    if turn.dialog.step is Step.CODE:
        return await on_code(turn)
    await on_identify(turn)
    return False
