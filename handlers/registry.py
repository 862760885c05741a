"""Which handler answers a turn: a pressed button, the open dialog, a short reply, an intent.

An open dialog sees the message first, unless the message clearly asks for something
else: a question is answered and the dialog waits where it was; another right asked
for during a dialog is taken after it; "stop" ends it. Thanks, goodbye, "how long?"
and "what now?" get a short answer at any step. A guess below CONFIDENT is never acted
on: the likely intents are offered as buttons.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import (
    access,
    acts,
    auth,
    cancel,
    complaint,
    erasure,
    greeting,
    handover,
    human_review,
    menu,
    objection,
    other,
    portability,
    privacy,
    questions,
    recipient,
    rectification,
    restriction,
    status,
)
from handlers.state import Pending, Step
from handlers.turn import HeldUnderstanding, Turn
from handlers.types import Button, Understanding
from locales import _
from workflow import contacts, identity

Handler = Callable[[Turn], Awaitable[None]]

CONFIDENT = 0.6
INTENT_LABELS = menu.INTENT_LABELS


async def _question(turn: Turn) -> None:
    """Answer the question; a request made in the same message then starts its dialog."""
    await questions.answer(turn)
    rights = turn.understanding.rights if turn.understanding is not None else ()
    if rights:
        await privacy.start(turn, rights[0], answered=True)


HANDLERS: dict[str, Handler] = {
    "access": access.handle,
    "portability": portability.handle,
    "rectification": rectification.handle,
    "erasure": erasure.handle,
    "restriction": restriction.handle,
    "objection": objection.handle,
    "human_review": human_review.handle,
    "status": status.handle,
    "cancel": cancel.handle,
    "handover": handover.handle,
    "greeting": greeting.handle,
    "other": other.handle,
    "question": _question,
    "complaint": complaint.handle,
    "recipient": recipient.handle,
}

# Dialogs that expect the customer's next message: flow -> resume. `resume` returns
# False when the message does not belong to the dialog.
FLOWS: dict[str, Callable[[Turn], Awaitable[bool]]] = {
    **{kind: privacy.resume for kind in privacy.RIGHTS},
    "status": status.resume,
    "cancel": cancel.resume,
    "recipient": recipient.resume,
}
# Buttons a channel may show without the bot having offered them in its last turn
# (the web chat's quick starts, Telegram's /start menu).
ALWAYS_OPEN = frozenset({*menu.MAIN, "status", "question"})
_FREE_TEXT = frozenset({"decision", "value", "readback", "new_code"})
SHORT_ACTS = frozenset({"thanks", "bye", "how_long", "what_next"})
_ELSEWHERE = frozenset({"question", "complaint", "handover", "recipient", "status", "cancel"})


async def dispatch(turn: Turn) -> None:
    understanding = turn.understanding
    turn.apology_due = bool(
        understanding is not None and understanding.upset and understanding.intent != "complaint"
    )
    await _dispatch(turn)
    turn.apologise_first(_("I'm sorry for the trouble, and I'll do my best to help."))


async def _dispatch(turn: Turn) -> None:
    forced = turn.incoming.metadata.get("intent")
    if forced in HANDLERS:  # a platform command such as Telegram's /start
        await HANDLERS[forced](turn)
        return
    if turn.incoming.button:
        await _on_button(turn, turn.incoming.button)
        return
    understanding = turn.understanding
    flow = turn.dialog.flow
    if understanding is None:
        if flow in FLOWS and await FLOWS[flow](turn):  # e.g. a shared contact, no text
            return
        turn.say(_("I didn't catch that. What would you like to do?"), menu.main_menu())
        return
    if flow in FLOWS:
        resume = FLOWS[flow]
        if _answers_the_step(turn, understanding) and await resume(turn):
            return
        if understanding.act in SHORT_ACTS and await _answer_act(turn, understanding):
            return
        if _asks_for_something_else(turn, understanding):
            await _interrupt(turn, understanding)
            return
        if await resume(turn):
            return
        if turn.dialog.flow is not None:
            turn.say(_("Sorry, I didn't quite get that."))
            privacy.remind(turn)
            return
    await _route(turn, understanding)


async def _route(turn: Turn, understanding: Understanding) -> None:
    """A message outside any dialog: a short reply, a question, or a new request."""
    intent = understanding.intent
    if understanding.language_request and intent in ("greeting", "other"):
        turn.say(_("Of course, I'll write in English from now on."), menu.main_menu())
        return
    short_reply = intent in ("greeting", "other") or (
        intent == "status" and understanding.act in ("how_long", "what_next")
    )
    if short_reply and await _answer_act(turn, understanding):
        return
    if short_reply and understanding.act == "yes":
        _yes_to_nothing_asked(turn)
        return
    several = len(understanding.rights) > 1  # each named with its own action: no guess
    if (
        understanding.confidence < CONFIDENT
        and intent not in ("greeting", "other", "question")
        and not several
    ):
        turn.dialog.held = HeldUnderstanding.keep(turn.text, understanding)
        _offer_choices(turn, intent, understanding.alternatives)
        return
    if understanding.complains and intent in privacy.RIGHTS:
        await complaint.handle(turn)  # the complaint is taken, then the request
        turn.apology_due = False
    wanted = [r for r in understanding.rights if r in privacy.RIGHTS]
    if intent == "complaint" and wanted:  # "… file a complaint, and I want my account deleted"
        await complaint.handle(turn)
        turn.apology_due = False
        await privacy.start(turn, wanted[0])
        return
    await HANDLERS.get(intent, other.handle)(turn)


def _yes_to_nothing_asked(turn: Turn) -> None:
    """A yes while no question is open is an "ok": it gets a short one back. (It starts
    no right an answer offered as a button: "okay" after how long SMS are kept is no
    wish to delete the account.)"""
    turn.say(_("Good. Is there anything else I can help you with?"))


async def _answer_act(turn: Turn, understanding: Understanding) -> bool:
    """Thanks, bye, how long, what now: True when answered."""
    act = understanding.act
    if act == "thanks":
        await acts.thanks(turn)
    elif act == "bye":
        await acts.bye(turn)
    elif act == "how_long":
        await acts.how_long(turn)
    elif act == "what_next":
        await acts.what_next(turn)
    else:
        return False
    return True


def _answers_the_step(turn: Turn, understanding: Understanding) -> bool:
    """The message is what the open dialog waits for: a yes or no, a contact, a code."""
    dialog, act = turn.dialog, understanding.act
    if dialog.step is Step.CONFIRM:
        return act in ("yes", "no", "more")
    if dialog.step in (Step.IDENTIFY, Step.CODE):
        found = contacts.parse_contact(turn.text, auth.region_hints(turn))
        code = dialog.step is Step.CODE and identity.parse_code(turn.text) is not None
        return found is not None or code or act == "no_code"
    if dialog.step is Step.DETAILS:
        return (
            dialog.asking in _FREE_TEXT
            or act in ("yes", "no")
            or (dialog.asking == "purposes" and bool(understanding.purposes))
            or (dialog.asking == "field" and understanding.field is not None)
            or (dialog.asking == "wish" and bool(understanding.rights))
            or (dialog.asking == recipient.FURTHER and bool(recipient.further_wish(turn)))
            or identity.parse_code(turn.text) is not None
        )
    return False


def _asks_for_something_else(turn: Turn, understanding: Understanding) -> bool:
    """The message clearly starts something other than an answer to the open dialog."""
    if understanding.confidence < CONFIDENT:
        return False
    intent = understanding.intent
    if intent in _ELSEWHERE:
        return True
    return intent in privacy.RIGHTS and intent != turn.dialog.flow


async def _interrupt(turn: Turn, understanding: Understanding) -> None:
    intent = understanding.intent
    dialog = turn.dialog
    if intent == "question":
        await questions.answer(turn)
        privacy.remind(turn)
        return
    if intent in ("complaint", "handover"):
        await HANDLERS[intent](turn)
        return
    if intent == "cancel":
        await cancel.handle(turn)
        return
    if (
        intent in privacy.RIGHTS
        and dialog.flow in privacy.RIGHTS
        and dialog.step is not Step.CONFIRM
    ):
        if all(p.kind != intent for p in dialog.pending):
            dialog.pending.append(Pending(intent))
        turn.say(
            _("Noted: I'll help you with {what} right after this.").format(
                what=privacy.kind_name(intent)
            )
        )
        privacy.remind(turn)
        return
    await HANDLERS.get(intent, other.handle)(turn)


async def _on_button(turn: Turn, value: str) -> None:
    offered = turn.dialog.offered
    if value not in offered and value not in ALWAYS_OPEN:
        turn.say(_("That choice is no longer open. What would you like to do?"), menu.main_menu())
        return
    resume = FLOWS.get(turn.dialog.flow or "")
    if resume is not None and (value not in HANDLERS or value == "cancel") and await resume(turn):
        return
    if value in HANDLERS:
        if value in privacy.RIGHTS or value == "recipient":
            turn.resume_held()
        turn.dialog.held = None
        await HANDLERS[value](turn)
        return
    turn.say(_("That choice is no longer open. What would you like to do?"), menu.main_menu())


def _offer_choices(turn: Turn, best: str, alternatives: tuple[tuple[str, float], ...]) -> None:
    """Never act on a guess: show the likely intents and let the customer pick."""
    candidates = [best, *(name for name, _score in alternatives if name not in ("greeting",))]
    seen: list[str] = []
    for name in candidates:
        if name in INTENT_LABELS and name not in seen and name != "other":
            seen.append(name)
    buttons = tuple(Button(_(INTENT_LABELS[name]), name) for name in seen[:3])
    turn.say(
        _("I'm not sure I understood. Did you mean one of these?"),
        (*buttons, Button(_(INTENT_LABELS["other"]), "other")),
    )
