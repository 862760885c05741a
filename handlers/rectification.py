"""Right to rectification (Art. 16): correct email, phone, name, company or address.

A new email address or phone number is confirmed with a code sent to it before the
request is opened, so nobody can move an account to a contact they don't control.
"""

from __future__ import annotations

from handlers.privacy import Right, register, scratch
from handlers.turn import Turn
from handlers.types import Button
from locales import N_, _
from workflow import identity

FIELDS = {
    "email": N_("Email address"),
    "phone": N_("Phone number"),
    "name": N_("Name"),
    "company": N_("Company name"),
    "address": N_("Address"),
}
MAX_LENGTH = 200


def explain() -> str:
    return _(
        "I'll help you correct the details on your account: email address, phone number, "
        "name, company name or address. A new email address or phone number is confirmed "
        "with a code before anything changes, and a member of our team approves the change. "
        "Shall I go ahead?"
    )


def prefill(turn: Turn) -> None:
    """'My phone number is wrong, the right one is +45 ...': take the new value along."""
    contact = identity.parse_contact(turn.incoming.text or "")
    if contact is not None:
        turn.state["details"].update({"field": contact.kind, "value": contact.value})


def _ask_field(turn: Turn) -> None:
    scratch(turn)["sub"] = "field"
    buttons = tuple(Button(_(label), value) for value, label in FIELDS.items())
    turn.say(_("What would you like to correct?"), (*buttons, Button(_("Cancel"), "cancel")))


def _ask_value(turn: Turn, field: str) -> None:
    scratch(turn)["sub"] = "value"
    turn.say(
        _('Please type the new value for "{field}".').format(field=_(FIELDS[field])),
        (Button(_("Cancel"), "cancel"),),
    )


def _validated(field: str, text: str) -> str | None:
    if field == "email":
        contact = identity.parse_email(text)
        return contact.value if contact else None
    if field == "phone":
        contact = identity.parse_phone(text)
        return contact.value if contact else None
    value = " ".join(text.split())
    return value if 0 < len(value) <= MAX_LENGTH else None


async def _send_new_contact_code(turn: Turn, field: str, value: str) -> bool:
    outcome = await identity.start(
        turn.session,
        turn.conversation,
        identity.Contact(field, value),
        secret=turn.services.secret,
        now=turn.now(),
        purpose="new_contact",
        account_id=turn.conversation.account_id,
    )
    if outcome is identity.StartOutcome.CONVERSATION_LIMIT:
        turn.say(
            _("You have asked for several codes in a short time. Please try again in an hour.")
        )
        return False
    scratch(turn)["sub"] = "new_code"
    turn.say(
        _(
            "To make sure {contact} is yours, I've sent a 6-digit code to it. Type the code here."
        ).format(contact=identity.mask(identity.Contact(field, value))),
        (Button(_("Cancel"), "cancel"),),
    )
    return False


async def collect(turn: Turn) -> bool:
    details = turn.state["details"]
    sub = scratch(turn).get("sub")
    text = turn.incoming.text or ""
    if sub == "field":
        field = turn.incoming.button if turn.incoming.button in FIELDS else None
        if field is None:
            _ask_field(turn)
            return False
        details["field"] = field
        details.pop("value", None)
        _ask_value(turn, field)
        return False
    if sub == "value":
        value = _validated(details["field"], text)
        if value is None:
            turn.say(_("That doesn't look right. Please type the new value again."))
            return False
        details["value"] = value
    elif sub == "new_code":
        code = identity.parse_code(text)
        result = None
        if code is not None:
            result = await identity.check(
                turn.session,
                turn.conversation,
                code,
                secret=turn.services.secret,
                now=turn.now(),
                purpose="new_contact",
            )
        if result is not None and result.outcome is identity.CheckOutcome.VERIFIED:
            scratch(turn).pop("sub", None)
            details["confirmed"] = True
            return True
        if result is not None and result.outcome is identity.CheckOutcome.WRONG:
            turn.say(
                _("That code is not right. You have {tries} tries left.").format(
                    tries=result.tries_left
                )
            )
            return False
        if result is None:
            turn.say(_("Please type the 6-digit code we sent you."))
            return False
        turn.say(_("That code no longer works. Let's start again with the new value."))
        _ask_value(turn, details["field"])
        return False
    field, value = details.get("field"), details.get("value")
    if field not in FIELDS:
        _ask_field(turn)
        return False
    if value is None:
        _ask_value(turn, field)
        return False
    if field in ("email", "phone") and not details.get("confirmed"):
        return await _send_new_contact_code(turn, field, value)
    scratch(turn).pop("sub", None)
    return True


handle = register(Right("rectification", explain, collect=collect, prefill=prefill))
