"""Right to rectification (Art. 16): correct email, phone, name, company or address.

The field and the new value are read from the message when the customer gave them
("it needs to be ben@bensbikes.co.uk now") and read back before anything is sent. A
new email address or phone number is confirmed with a code sent to it, so nobody can
move an account to a contact they don't control; at that step the customer can still
correct a mistyped value.
"""

from __future__ import annotations

from handlers import auth, menu, values
from handlers.privacy import Right, Slots, register
from handlers.state import Step
from handlers.turn import Turn
from handlers.types import Button
from locales import _
from workflow import account_details, contacts, identity

FIELDS = ("email", "phone", "name", "company", "address")
CONTACT_FIELDS = ("email", "phone")
MAX_LENGTH = 200


def field_name(field: str) -> str:
    """The field as a definite noun phrase ("the email address"), as sentences need it."""
    return {
        "email": _("the email address"),
        "phone": _("the phone number"),
        "name": _("the name"),
        "company": _("the company name"),
        "address": _("the address"),
    }.get(field, field)


def field_label(field: str) -> str:
    return {
        "email": _("Email address"),
        "phone": _("Phone number"),
        "name": _("Name"),
        "company": _("Company name"),
        "address": _("Address"),
    }.get(field, field)


def new_value_question(field: str) -> str:
    return {
        "email": _("What is the new email address?"),
        "phone": _("What is the new phone number?"),
        "name": _("What is the new name?"),
        "company": _("What is the new company name?"),
        "address": _("What is the new address?"),
    }.get(field, _("What is the new value?"))


def summary(turn: Turn) -> str:
    field, value = turn.dialog.slots.get("field"), turn.dialog.slots.get("value")
    if field and value:
        if field in CONTACT_FIELDS:
            return _(
                "I'll change {field} on your account to {value}. A code sent to it confirms "
                "it's yours, and a person on our team approves the change. Is that right?"
            ).format(field=field_name(field), value=value)
        return _(
            "I'll change {field} on your account to {value}. A person on our team approves "
            "the change. Is that right?"
        ).format(field=field_name(field), value=value)
    if field:
        return _(
            "I'll help you correct {field} on your account; a person on our team approves the "
            "change. Shall I go ahead?"
        ).format(field=field_name(field))
    return _(
        "I'll help you correct your details: email address, phone number, name, company name "
        "or address. A person on our team approves the change. Shall I go ahead?"
    )


def details() -> str:
    return _(
        "First you confirm it's you with a code. A new email address or phone number gets a "
        "code of its own, so we know it's yours. An address is held only on invoices already "
        "issued, which must stay as they were; a person answers such a request."
    )


def _hints(turn: Turn, phone_hint: str | None = None) -> tuple[str, ...]:
    """Where national numbers are read: the account's own country first, when known."""
    return contacts.regions(turn.language, phone_hint)


def prefill(turn: Turn, slots: Slots) -> None:
    """'the email is still X and needs to be Y': field email, value Y. At the read-back,
    a fixed typo ("undskyld, det skal være Annas Bageri …") replaces the value it fixes."""
    if turn.dialog.flow == "rectification":
        open_field = str(turn.dialog.slots.get("field"))
        fixed = _fixed(turn, open_field, turn.dialog.slots.get("value"))
        if fixed is not None:
            slots.update({"field": open_field, "value": fixed})
            return
    named = turn.understanding.field if turn.understanding is not None else None
    field = named if named in FIELDS else None
    if field in (None, *CONTACT_FIELDS):
        value = values.new_contact(turn.text, field, _hints(turn))
        if value is not None:
            field = field or ("email" if "@" in value else "phone")
            slots.update({"field": field, "value": value})
            return
    if field is not None:
        value = values.new_text_value(turn.text, field) if field not in CONTACT_FIELDS else None
        if not value:  # "retiring the old address. The email … needs to be Y": the email
            found = values.field_values(turn.text, _hints(turn))
            if len(found) == 1:
                field, value = found[0]
        slots["field"] = field
        if value and 0 < len(value) <= MAX_LENGTH:
            slots["value"] = value


def several(turn: Turn) -> list[Slots]:
    """One correction per field the message gives a new value for, when it gives more
    than one ("my name should read X, and our address has changed to Y")."""
    found = values.field_values(turn.text, _hints(turn))
    fields = [field for field, _value in found]
    if len(set(fields)) < 2:
        return []
    return [
        {"field": field, "value": value}
        for field, value in found
        if field in FIELDS and 0 < len(value) <= MAX_LENGTH
    ]


def _fixed(turn: Turn, field: str, pending: object) -> str | None:
    if field in CONTACT_FIELDS or not isinstance(pending, str):
        return None
    act = turn.understanding.act if turn.understanding is not None else None
    if act in ("yes", "no") or turn.incoming.button:
        return None
    value = values.corrected_value(turn.text, field, pending)
    return value if value and len(value) <= MAX_LENGTH else None


def _validated(turn: Turn, field: str, hints: tuple[str, ...]) -> str | None:
    if field in CONTACT_FIELDS:
        return values.new_contact(turn.text, field, hints)
    value = values.answer_value(turn.text)
    return value if value and len(value) <= MAX_LENGTH else None


def _ask_field(turn: Turn) -> None:
    turn.dialog.step, turn.dialog.asking = Step.DETAILS, "field"
    buttons = tuple(Button(field_label(f), f) for f in FIELDS)
    turn.say(_("What would you like to correct?"), (*buttons, menu.cancel_button()))


def _ask_value(turn: Turn, field: str, lead: str | None = None) -> None:
    turn.dialog.step, turn.dialog.asking = Step.DETAILS, "value"
    question = new_value_question(field)
    turn.say(f"{lead} {question}" if lead else question, (menu.cancel_button(),))


async def _send_new_contact_code(turn: Turn, field: str, value: str) -> None:
    outcome = await identity.start(
        turn.session,
        turn.conversation,
        identity.Contact(field, value),
        secret=turn.services.secret,
        now=turn.now(),
        purpose="new_contact",
        account_id=auth.account_id(turn),
    )
    if outcome is identity.StartOutcome.CONVERSATION_LIMIT:
        turn.say(
            _("You have asked for several codes in a short time. Please try again in an hour.")
        )
        return
    turn.dialog.step, turn.dialog.asking = Step.DETAILS, "new_code"
    turn.say(
        _(
            "I'm changing {field} to {value}. To make sure it belongs to you, a 6-digit code "
            "is on its way to it (if there is a typo, just write it again correctly). Please "
            "type the code here."
        ).format(field=field_name(field), value=value),
        (Button(_("I didn't get a code"), auth.NO_CODE), menu.cancel_button()),
    )


async def _on_new_code(turn: Turn, field: str, hints: tuple[str, ...]) -> bool:
    slots = turn.dialog.slots
    if turn.incoming.button == auth.RESEND:
        await _send_new_contact_code(turn, field, str(slots["value"]))
        return False
    code = identity.parse_code(turn.text)
    if code is None:
        corrected = values.new_contact(turn.text, field, hints)
        if corrected is not None and corrected != slots.get("value"):
            slots["value"] = corrected
            await _send_new_contact_code(turn, field, corrected)
            return False
        act = turn.understanding.act if turn.understanding is not None else None
        if turn.incoming.button == auth.NO_CODE or act == auth.NO_CODE:
            turn.say(
                _(
                    "Sorry about that. Check that {value} is right and look in the spam "
                    "folder. I can send the code again, or you can write it again correctly. "
                    "When the code arrives, type it here."
                ).format(value=slots["value"]),
                (Button(_("Send a new code"), auth.RESEND), menu.cancel_button()),
            )
            return False
        turn.say(_("Please type the 6-digit code we sent you."))
        return False
    result = await identity.check(
        turn.session,
        turn.conversation,
        code,
        secret=turn.services.secret,
        now=turn.now(),
        purpose="new_contact",
    )
    if result.outcome is identity.CheckOutcome.VERIFIED:
        slots["confirmed"] = True
        turn.dialog.asking = None
        return True
    if result.outcome is identity.CheckOutcome.WRONG:
        turn.say(
            _(
                "That code is not right. Please type the code again; you have {tries} tries left."
            ).format(tries=result.tries_left)
        )
        return False
    slots.pop("value", None)
    _ask_value(turn, field, _("That code no longer works, so let's start again."))
    return False


async def collect(turn: Turn) -> bool:
    dialog, slots = turn.dialog, turn.dialog.slots
    asking = dialog.asking
    account = auth.account_id(turn)
    current = await account_details.current(turn.session, account) if account else {}
    hints = _hints(turn, current.get("phone"))
    if asking == "field":
        field = turn.incoming.button if turn.incoming.button in FIELDS else None
        if field is None and turn.understanding is not None:
            field = turn.understanding.field if turn.understanding.field in FIELDS else None
        if field is None:
            _ask_field(turn)
            return False
        slots["field"] = field
        slots.pop("value", None)
        prefill_value = _validated(turn, field, hints) if field in CONTACT_FIELDS else None
        if prefill_value:
            slots["value"] = prefill_value
    elif asking == "value":
        field = str(slots.get("field"))
        value = _validated(turn, field, hints)
        if value is None:
            _ask_value(turn, field, _("That doesn't look right."))
            return False
        slots["value"] = value
        if field not in CONTACT_FIELDS:
            dialog.step, dialog.asking = Step.DETAILS, "readback"
            turn.say(
                _("I'll change {field} to {value}. Is that right?").format(
                    field=field_name(field), value=value
                ),
                menu.yes_no(),
            )
            return False
    elif asking == "readback":
        answer = turn.incoming.button == "confirm" or (
            turn.understanding is not None and turn.understanding.act == "yes"
        )
        fixed = None if answer else _fixed(turn, str(slots.get("field")), slots.get("value"))
        if fixed is not None:  # "oops typo - its Benjamin Carter": read the fix back
            slots["value"] = fixed
            turn.say(
                _("I'll change {field} to {value}. Is that right?").format(
                    field=field_name(str(slots.get("field"))), value=fixed
                ),
                menu.yes_no(),
            )
            return False
        if not answer:
            slots.pop("value", None)
            _ask_value(turn, str(slots.get("field")))
            return False
        dialog.asking = None
        return True
    elif asking == "new_code":
        return await _on_new_code(turn, str(slots.get("field")), hints)
    field, value = slots.get("field"), slots.get("value")
    if field not in FIELDS:
        _ask_field(turn)
        return False
    if value is None:
        _ask_value(turn, field)
        return False
    if current.get(field) is not None and str(current[field]).casefold() == str(value).casefold():
        slots.pop("value", None)
        _ask_value(
            turn,
            field,
            _("{value} is already on your account.").format(value=value),
        )
        return False
    if field in CONTACT_FIELDS and not slots.get("confirmed"):
        await _send_new_contact_code(turn, field, str(value))
        return False
    dialog.asking = None
    return True


handle = register(
    Right("rectification", summary, details, collect=collect, prefill=prefill, several=several)
)
