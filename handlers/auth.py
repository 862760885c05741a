"""The "prove it's you" part of a dialog: contact detail in, one-time code back.

Used by every flow that shows or changes something personal. The wording never
reveals whether an account exists: the same words follow a known and an unknown
address.
"""

from __future__ import annotations

from handlers.turn import Turn
from handlers.types import Button
from locales import _
from workflow import identity

IDENTIFY = "identify"
CODE = "code"


def is_verified(turn: Turn) -> bool:
    return identity.verified_account(turn.conversation, turn.now()) is not None


def account_id(turn: Turn) -> int:
    """The verified account; only call after `is_verified`."""
    verified = identity.verified_account(turn.conversation, turn.now())
    if verified is None:
        raise RuntimeError("account_id() called on an unverified conversation")
    return verified


def cancel_button() -> Button:
    return Button(_("Cancel"), "cancel")


def ask_for_contact(turn: Turn) -> None:
    turn.state["step"] = IDENTIFY
    turn.say(
        _(
            "First I need to confirm it's you. What is the email address or phone number "
            "registered on your account? I'll send a one-time code to it."
        ),
        (cancel_button(),),
    )


async def on_identify(turn: Turn) -> None:
    contact = identity.parse_contact(turn.incoming.text or "")
    if contact is None:
        turn.say(
            _(
                "That doesn't look like an email address or a phone number. Please type the "
                "email address or phone number registered on your account."
            ),
            (cancel_button(),),
        )
        return
    outcome = await identity.start(
        turn.session, turn.conversation, contact, secret=turn.services.secret, now=turn.now()
    )
    if outcome is identity.StartOutcome.CONVERSATION_LIMIT:
        turn.say(
            _(
                "You have asked for several codes in a short time. Please wait an hour and "
                "try again, or ask to talk to a person."
            ),
            (Button(_("Talk to a person"), "handover"),),
        )
        return
    turn.state["step"] = CODE
    turn.say(
        _(
            "If {contact} is registered on an account, we have just sent a 6-digit code to "
            "it. Type the code here. It is valid for 10 minutes."
        ).format(contact=identity.mask(contact)),
        (Button(_("Send a new code"), "resend"), cancel_button()),
    )


async def on_code(turn: Turn) -> bool:
    """True once the customer is verified; otherwise explains what to do next."""
    if turn.incoming.button == "resend":
        ask_for_contact(turn)
        return False
    code = identity.parse_code(turn.incoming.text or "")
    if code is None:
        turn.say(
            _("Please type the 6-digit code we sent you."),
            (Button(_("Send a new code"), "resend"), cancel_button()),
        )
        return False
    result = await identity.check(
        turn.session, turn.conversation, code, secret=turn.services.secret, now=turn.now()
    )
    outcome = result.outcome
    if outcome is identity.CheckOutcome.VERIFIED:
        turn.say(_("Thank you, you are verified."))
        return True
    if outcome is identity.CheckOutcome.WRONG:
        turn.say(
            _("That code is not right. You have {tries} tries left.").format(
                tries=result.tries_left
            ),
            (Button(_("Send a new code"), "resend"), cancel_button()),
        )
        return False
    turn.state["step"] = IDENTIFY
    if outcome is identity.CheckOutcome.LOCKED:
        turn.say(
            _(
                "Too many wrong codes have been typed, so codes are paused for up to an hour. "
                "Please try again later, or ask to talk to a person."
            ),
            (Button(_("Talk to a person"), "handover"), cancel_button()),
        )
    elif outcome is identity.CheckOutcome.EXPIRED:
        turn.say(
            _(
                "That code has expired. Type your email address or phone number again and "
                "I'll send a new one."
            ),
            (cancel_button(),),
        )
    elif outcome is identity.CheckOutcome.EXHAUSTED:
        turn.say(
            _(
                "Too many wrong tries, so that code no longer works. Type your email address "
                "or phone number again to get a new one."
            ),
            (cancel_button(),),
        )
    else:
        ask_for_contact(turn)
    return False


async def step(turn: Turn) -> bool:
    """Run the current authentication step; True when the customer just got verified.

    A channel that can vouch for the customer itself (a Telegram contact shared by its
    owner, matching the account's phone) marks the conversation verified before the
    turn; then there is nothing left to ask.
    """
    if is_verified(turn):
        return True
    if turn.state.get("step") == CODE:
        return await on_code(turn)
    await on_identify(turn)
    return False
