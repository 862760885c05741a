"""People who received an SMS that a customer sent through the gateway (not customers).

For them the company is only the processor: the business that sent the message decides
about it (it is the controller), and we pass the person's request on to it (GDPR Art.
28(3)(e)). The dialog proves the person holds the number with a code by SMS to it,
names the senders they received messages from, and forwards their request to each as a
tracked referral. A recipient is never offered to close an account.
"""

from __future__ import annotations

from datetime import datetime

from handlers import auth, menu
from handlers.state import Step
from handlers.turn import Turn
from handlers.types import Button
from locales import N_, _, format_date
from workflow import contacts, identity, referrals
from workflow.referral_numbers import masked
from workflow.referral_senders import senders_for_number

FLOW = "recipient"
FURTHER = "further"  # after the default request: "delete my number", "make them stop"
WISHES = ("erasure", "objection", "access", "rectification")
VERIFIED_FOR = identity.VERIFIED_FOR


def _wishes(turn: Turn) -> list[str]:
    """What the person asks the senders to do, in the order asked ("who gave you my number,
    and make it stop": access, then objection)."""
    named = turn.understanding.rights if turn.understanding is not None else ()
    return [kind for kind in dict.fromkeys(named) if kind in WISHES]


def further_wish(turn: Turn) -> list[str]:
    """After the senders were asked what they hold, what more the person wants of them:
    "just make them stop" (read as a bare stop) asks them to stop writing."""
    understanding = turn.understanding
    if understanding is None:
        return []
    wishes = [w for w in _wishes(turn) if w != "access"]
    if not wishes and understanding.intent in ("cancel", "objection"):
        wishes = ["objection"]
    if not wishes and understanding.intent == "erasure":
        wishes = ["erasure"]
    return wishes


def _hints(turn: Turn) -> tuple[str, ...]:
    return contacts.regions(turn.language)


async def handle(turn: Turn) -> None:
    wishes = _wishes(turn)
    turn.dialog.start(FLOW, Step.IDENTIFY, {"wishes": wishes} if wishes else {})
    number = _verified_number(turn)
    if number is not None:
        await _after_verification(turn, number)
        return
    turn.say(
        _(
            "The business that sent you the message decides about it: we send SMS on its "
            "behalf, and we pass your request on to it without delay. First I need to confirm "
            "that the number is yours. What is your mobile number?"
        ),
        (Button(_("More"), "more"), menu.cancel_button()),
    )


def explain_roles() -> str:
    return _(
        "We send SMS on behalf of the businesses that use GatewayAPI. The business that sent "
        "you the message decides about your data, so your request goes to them; we pass it "
        "on without delay (GDPR Art. 28(3)(e)). We keep the message content and the last 4 "
        "digits of your number for 30 days; after that they are anonymised and can no longer "
        "be traced to your number."
    )


async def resume(turn: Turn) -> bool:
    dialog = turn.dialog
    if turn.incoming.button == "cancel":
        dialog.end()
        turn.say(_("All right, I have stopped. Nothing has been changed."))
        return True
    if turn.incoming.button == "more":
        turn.say(explain_roles())
        _ask_number(turn)
        return True
    if dialog.step is Step.IDENTIFY:
        await _on_number(turn)
        return True
    if dialog.step is Step.CODE:
        return await _on_code(turn)
    if dialog.step is Step.DETAILS and dialog.asking == FURTHER:
        wishes, number = further_wish(turn), _verified_number(turn)
        if not wishes or number is None:
            dialog.end()  # something else: answered as if no dialog were open
            return False
        dialog.slots["wishes"] = wishes
        await _forward(turn, number)
        return True
    if dialog.step is Step.DETAILS and dialog.asking == "wish":
        wishes = [turn.incoming.button] if turn.incoming.button in WISHES else _wishes(turn)
        number = _verified_number(turn)
        if not wishes or number is None:
            _ask_wish(turn)
            return True
        dialog.slots["wishes"] = wishes
        await _forward(turn, number)
        return True
    return False


def _ask_number(turn: Turn) -> None:
    turn.dialog.step = Step.IDENTIFY
    turn.say(_("What is your mobile number?"), (menu.cancel_button(),))


async def _on_number(turn: Turn) -> None:
    found = contacts.parse_phone(turn.text, _hints(turn))
    if found is None:
        turn.say(
            _("That doesn't look like a phone number. Please type the number the SMS came to."),
            (menu.cancel_button(),),
        )
        return
    await _send_code(turn, found)


async def _send_code(turn: Turn, number: identity.Contact) -> None:
    outcome = await identity.start(
        turn.session,
        turn.conversation,
        number,
        secret=turn.services.secret,
        now=turn.now(),
        purpose="recipient",
    )
    if outcome is identity.StartOutcome.CONVERSATION_LIMIT:
        auth.say_code_limit(turn)
        return
    turn.dialog.step = Step.CODE
    turn.dialog.contact = {"kind": number.kind, "value": number.value}
    turn.say(
        _(
            "A 6-digit code is on its way to {number} by SMS, unless several codes went to it "
            "in the last hour. Please type the code here; it is valid for 10 minutes."
        ).format(number=masked(number.value)),
        (Button(_("I didn't get a code"), auth.NO_CODE), menu.cancel_button()),
    )


async def _on_code(turn: Turn) -> bool:
    act = turn.understanding.act if turn.understanding is not None else None
    stored = turn.dialog.contact
    code = identity.parse_code(turn.text)
    if code is None:
        other = contacts.parse_phone(turn.text, _hints(turn))
        if other is not None:
            await _send_code(turn, other)
            return True
        if turn.incoming.button in (auth.NO_CODE, auth.RESEND) or act == auth.NO_CODE:
            if stored is not None and turn.incoming.button == auth.RESEND:
                await _send_code(turn, identity.Contact(stored["kind"], stored["value"]))
                return True
            turn.say(
                _(
                    "Sorry about that. Check that the number is right; I can send a new code, "
                    "or you can type the number again. When the code arrives, type it here."
                ),
                (Button(_("Send a new code"), auth.RESEND), menu.cancel_button()),
            )
            return True
        return False
    result = await identity.check(
        turn.session,
        turn.conversation,
        code,
        secret=turn.services.secret,
        now=turn.now(),
        purpose="recipient",
    )
    if result.outcome is identity.CheckOutcome.VERIFIED and stored is not None:
        turn.dialog.recipient = {
            "number": stored["value"],
            "until": (turn.now() + VERIFIED_FOR).isoformat(),
        }
        turn.dialog.contact = None
        turn.say(_("Thank you, the number is confirmed."))
        await _after_verification(turn, stored["value"])
        return True
    if result.outcome is identity.CheckOutcome.WRONG:
        turn.say(
            _("That code is not right. Please type it again; you have {tries} tries left.").format(
                tries=result.tries_left
            )
        )
        return True
    if result.outcome is identity.CheckOutcome.LOCKED:
        turn.say(
            _(
                "Too many wrong codes have been typed, so codes are paused for up to an hour. "
                "Please try again later, or ask to talk to a person."
            ),
            menu.buttons_for(("handover",)),
        )
        turn.dialog.end()
        return True
    turn.say(_("That code no longer works. Type your number again and I'll send a new one."))
    turn.dialog.step = Step.IDENTIFY
    return True


def _verified_number(turn: Turn) -> str | None:
    held = turn.dialog.recipient
    if not held:
        return None
    try:
        until = datetime.fromisoformat(held["until"])
    except (KeyError, ValueError):
        return None
    return held.get("number") if until > turn.now() else None


async def _after_verification(turn: Turn, number: str) -> None:
    found = await senders_for_number(turn.session, number, turn.now())
    if not found:
        turn.dialog.end()
        turn.say(
            _(
                "I can't trace any messages to {number} from the last 30 days. After 30 days, "
                "message content and the last 4 digits of the number are anonymised, so older "
                "messages can no longer be linked to your number, and there is nothing to pass "
                "on. Should another message reach you later, you are welcome to come back, and "
                "I'll pass your request on to its sender."
            ).format(number=masked(number))
        )
        return
    turn.dialog.slots["senders"] = [s.account_id for s in found if s.reachable]
    names = _join([_sender_name(s.sender_names, s.company) for s in found])
    turn.say(
        _("In the last 30 days you received messages from {names} through us.").format(names=names)
    )
    if not turn.dialog.slots.get("wishes"):
        # nothing named: they are at least owed what the sender holds and where it came from
        turn.dialog.slots["wishes"] = ["access"]
        turn.say(
            _(
                "I'll ask them to tell you what they hold about you and where they got your "
                "number. If you also want them to delete your number or stop writing to you, "
                "just tell me."
            )
        )
    await _forward(turn, number)


def _ask_wish(turn: Turn) -> None:
    turn.dialog.step, turn.dialog.asking = Step.DETAILS, "wish"
    turn.say(
        _("What should I ask them to do?"),
        (
            Button(_("Delete my number"), "erasure"),
            Button(_("Stop sending me messages"), "objection"),
            Button(_("Tell me what they hold about me"), "access"),
            menu.cancel_button(),
        ),
    )


async def _forward(turn: Turn, number: str) -> None:
    slots = turn.dialog.slots
    account_ids = [int(a) for a in slots.get("senders") or []]
    views = []
    for wish in slots.get("wishes") or ["erasure"]:
        views += await referrals.forward(
            turn.session,
            number,
            account_ids,
            str(wish),
            None,
            turn.conversation.id,
            turn.conversation.channel,
            turn.language,
            turn.now(),
            secret=turn.services.secret,
            public_url=turn.services.public_url,
        )
    further = list(slots.get("wishes") or []) == ["access"] and bool(views)
    senders = slots.get("senders")
    turn.dialog.end()
    if further:  # the offer to ask them also to delete or stop stays open
        turn.dialog.start(FLOW, Step.DETAILS, {"senders": senders})
        turn.dialog.asking = FURTHER
    if not views:
        turn.say(
            _(
                "The businesses that wrote to you can no longer receive requests through us. "
                "A person on our team can help you further."
            ),
            menu.buttons_for(("handover",)),
        )
        return
    lines = [
        _("{name}: reference {reference}").format(
            name=_sender_name(v.sender_names, v.company), reference=v.reference
        )
        for v in views
    ]
    turn.say(
        _(
            "I have passed your request on to:\n{lines}\nThey must answer you within one month. "
            "You can ask me here about its status at any time."
        ).format(lines="\n".join(lines))
    )


async def status(turn: Turn) -> bool:
    """A recipient asking how their forwarded requests are going; False if not one."""
    number = _verified_number(turn)
    if number is None:
        return False
    views = await referrals.referrals_for_number(turn.session, number, secret=turn.services.secret)
    if not views:
        turn.say(_("I haven't passed on any request for your number yet."))
        return True
    lines = [
        _("{reference} to {name}: {status} since {date}.").format(
            reference=v.reference,
            name=_sender_name(v.sender_names, v.company),
            status=_(STATUS_NAMES.get(str(v.status), str(v.status))),
            date=format_date(v.forwarded_at or v.created_at),
        )
        for v in views
    ]
    turn.say(_("Your requests:") + "\n" + "\n".join(lines))
    return True


STATUS_NAMES = {
    "opened": N_("opened"),
    "forwarded": N_("passed on"),
    "acknowledged": N_("received by the business"),
    "closed": N_("closed"),
    "account_gone": N_("the business has closed its account"),
}


def _sender_name(names: tuple[str, ...], company: str | None) -> str:
    shown = ", ".join(names)
    return f"{shown} ({company})" if company else shown


def _join(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return _("{first} and {last}").format(first=", ".join(items[:-1]), last=items[-1])
