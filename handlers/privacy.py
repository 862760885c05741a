"""The dialog every GDPR right follows: read back and confirm, verify, collect, submit.

A right module (access, erasure, ...) describes itself with a `Right`; this module
runs the steps. Nothing is opened until the customer has said yes to a short text that
reads back what will happen, and has proved who they are. Several rights asked for in
one message are taken one after another after a single verification, each confirmed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers import auth, menu, questions
from handlers.state import Pending, Step
from handlers.turn import Turn
from handlers.types import Button
from locales import _, format_date
from storage import keys
from workflow import lifecycle
from workflow import requests as privacy_requests
from workflow.lifecycle import Status

Slots = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Right:
    """One GDPR right as the dialog needs it.

    `summary` is the short confirmation (at most ~40 words; it reads back the slots and
    ends with a yes/no question); `details` is the longer text behind "More".
    `prefill` takes the slots from the customer's message; `several` splits a message
    that asks for several of this kind (two corrections); `collect` asks for what is
    still missing after verification and returns True once the slots are complete.
    Whether a kind needs an agent's approval is the approval policy's to say
    (`workflow.approvals`), not the dialog's.
    """

    kind: str
    summary: Callable[[Turn], str]
    details: Callable[[], str]
    collect: Callable[[Turn], Awaitable[bool]] | None = None
    prefill: Callable[[Turn, Slots], None] | None = None
    # every request of this kind the message gives in full, when it gives several
    several: Callable[[Turn], list[Slots]] | None = None


RIGHTS: dict[str, Right] = {}
# One open request of these kinds at a time: a second would only do the same work twice.
SINGLE_OPEN = frozenset({"access", "portability", "erasure", "restriction"})


def register(right: Right) -> Callable[[Turn], Awaitable[None]]:
    """Make `right` resumable and return the handler that starts its dialog."""
    RIGHTS[right.kind] = right

    async def start_handler(turn: Turn) -> None:
        await start(turn, right.kind)

    return start_handler


def kind_name(kind: str) -> str:
    names = {
        "access": _("a copy of your data"),
        "portability": _("an export of your data"),
        "rectification": _("a correction of your details"),
        "erasure": _("deleting your account"),
        "restriction": _("restricting the use of your data"),
        "objection": _("stopping marketing and tracking"),
        "human_review": _("a person reviewing a decision"),
    }
    return names.get(kind, kind)


def _prefilled(turn: Turn, kind: str) -> Slots:
    slots: Slots = {}
    right = RIGHTS[kind]
    if right.prefill is not None and turn.incoming.text:
        right.prefill(turn, slots)
    return slots


async def start(turn: Turn, kind: str, *, answered: bool = False) -> None:
    """Open `kind`'s dialog; other rights named in the same message wait their turn.
    A question asked along with the request is answered first, unless `answered`."""
    named = turn.understanding.rights if turn.understanding is not None else ()
    rest = [k for k in dict.fromkeys(named) if k in RIGHTS and k != kind]
    if turn.incoming.text and not answered:
        questions.answer_along(turn)
    asked = [request for k in (kind, *rest) for request in _requests_of(turn, k)]
    (first, slots), more = asked[0], asked[1:]
    turn.dialog.start(first, Step.CONFIRM, slots)
    turn.dialog.pending = [Pending(k, s) for k, s in more]
    confirm(turn)


def _requests_of(turn: Turn, kind: str) -> list[tuple[str, Slots]]:
    """The requests of `kind` the message asks for: one, or one per correction named."""
    right = RIGHTS[kind]
    several = right.several(turn) if right.several is not None and turn.incoming.text else []
    return [(kind, slots) for slots in several] or [(kind, _prefilled(turn, kind))]


def confirm(turn: Turn, *, lead: str | None = None) -> None:
    """Read back what will happen and ask yes or no."""
    right = RIGHTS[turn.dialog.flow or ""]
    parts = [lead] if lead else []
    if turn.apology_due and not lead:
        turn.apology_due = False
        parts.append(_("I'm sorry for the trouble."))
    parts.append(right.summary(turn))
    if turn.dialog.pending:
        parts.append(
            _("After that I'll help you with {rest}.").format(
                rest=_join([kind_name(p.kind) for p in turn.dialog.pending])
            )
        )
    turn.dialog.step = Step.CONFIRM
    turn.say(" ".join(parts), menu.yes_no(more=True))


def _join(items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return _("{first} and {last}").format(first=", ".join(items[:-1]), last=items[-1])


def end_flow(turn: Turn) -> None:
    turn.dialog.end()
    turn.dialog.pending = []


def yes_or_no(turn: Turn) -> bool | None:
    if turn.incoming.button in ("confirm", "cancel"):
        return turn.incoming.button == "confirm"
    act = turn.understanding.act if turn.understanding is not None else None
    if act == "yes":
        return True
    if act == "no":
        return False
    return None


async def resume(turn: Turn) -> bool:
    """Continue the open right dialog with this message. False: not for this dialog."""
    right = RIGHTS.get(turn.dialog.flow or "")
    if right is None:
        return False
    step = turn.dialog.step
    if turn.incoming.button == "cancel":
        cancel(turn)
        return True
    act = turn.understanding.act if turn.understanding is not None else None
    if step is Step.CONFIRM and (turn.incoming.button == "more" or act == "more"):
        turn.say(right.details())
        confirm(turn, lead=_("Shall I go ahead?"))
        return True
    if step is Step.CONFIRM:
        answer = yes_or_no(turn)
        if answer is None:
            return _refill(turn, right)
        if not answer:
            cancel(turn)
            return True
        await proceed(turn)
        return True
    if step in (Step.IDENTIFY, Step.CODE):
        if await auth.step(turn):
            await proceed(turn)
        return True
    if step is Step.DETAILS and right.collect is not None:
        if await right.collect(turn):
            await submit(turn)
        return True
    return False


def _refill(turn: Turn, right: Right) -> bool:
    """A message at the confirmation that adds details ("just the newsletter"): read back."""
    if right.prefill is None or not turn.incoming.text:
        return False
    added: Slots = {}
    right.prefill(turn, added)
    new = {k: v for k, v in added.items() if v and turn.dialog.slots.get(k) != v}
    if not new:
        return False
    turn.dialog.slots.update(new)
    confirm(turn)
    return True


async def proceed(turn: Turn) -> None:
    """After a yes or a verification: verify if needed, then collect, then submit."""
    right = RIGHTS[turn.dialog.flow or ""]
    if not auth.is_verified(turn):
        auth.ask_for_contact(turn)
        return
    if right.collect is not None:
        turn.dialog.step = Step.DETAILS
        if not await right.collect(turn):
            return
    await submit(turn)


def cancel(turn: Turn) -> None:
    end_flow(turn)
    turn.say(_("All right, I have stopped. Nothing has been changed."))


def requester_ref(turn: Turn) -> str:
    """Who asked, as a keyed hash: lets agents' self-approval be refused without storing ids."""
    who = f"{turn.incoming.channel}:{turn.incoming.sender_id or turn.conversation.id}"
    return keys.mac_hex(turn.services.secret, keys.IDENTITY, who)


async def submit(turn: Turn) -> None:
    right = RIGHTS[turn.dialog.flow or ""]
    account = auth.account_id(turn)
    if account is None:  # the verification expired while the customer was answering
        auth.ask_for_contact(turn, again=True)
        return
    if right.kind in SINGLE_OPEN:
        existing = await _open_of_kind(turn, account, right.kind)
        if existing is not None:
            pending = list(turn.dialog.pending)
            end_flow(turn)
            turn.dialog.last_reference = existing
            turn.say(
                _(
                    "You already have request {reference} for {what}, and it is still open, "
                    "so I haven't opened a second one. I'll write to you when it is done."
                ).format(reference=existing, what=kind_name(right.kind))
            )
            _next(turn, pending)
            return
    request = await privacy_requests.open_request(
        turn.session,
        kind=right.kind,
        account_id=account,
        conversation_id=turn.conversation.id,
        channel=turn.conversation.channel,
        language=turn.language,
        verified_via=turn.conversation.verified_via,
        details=dict(turn.dialog.slots),
        requester_ref=requester_ref(turn),
        now=turn.now(),
        policy=turn.services.policy,
    )
    pending = list(turn.dialog.pending)
    end_flow(turn)
    turn.dialog.last_reference = request.reference
    route = (
        _("by SMS") if (turn.conversation.verified_via or "").startswith("sms") else _("by email")
    )
    if request.status == Status.AWAITING_APPROVAL:
        text = _(
            "Done: your request has reference {reference}. A person on our privacy team "
            "reviews it, and we answer by {due_date} at the latest. I'll write to you here "
            "and {route}."
        ).format(reference=request.reference, due_date=format_date(request.due_at), route=route)
    else:
        text = _(
            "Done: your request has reference {reference}. It takes effect within a few "
            "minutes, and I'll confirm here and {route}."
        ).format(reference=request.reference, route=route)
    turn.say(text)
    _next(turn, pending)


def _next(turn: Turn, pending: list[Pending]) -> None:
    """Go on with the next right the customer asked for in the same message."""
    if pending:
        following = pending.pop(0)
        turn.dialog.start(following.kind, Step.CONFIRM, following.slots)
        turn.dialog.pending = pending
        confirm(turn, lead=_("Next:"))


async def _open_of_kind(turn: Turn, account: int, kind: str) -> str | None:
    found = await privacy_requests.customer_requests(turn.session, account, turn.now())
    return next((r.reference for r in found if r.kind == kind and r.status in lifecycle.OPEN), None)


def remind(turn: Turn) -> None:
    """Say where the open dialog stands (after a question or a thank-you in the middle)."""
    step = turn.dialog.step
    if step is Step.CONFIRM and turn.dialog.flow in RIGHTS:
        turn.say(
            _("Shall I go ahead with {what}?").format(what=kind_name(turn.dialog.flow or "")),
            menu.yes_no(),
        )
    elif step is Step.IDENTIFY:
        turn.say(
            _("When you're ready, type the email address or phone number on your account."),
            (menu.cancel_button(),),
        )
    elif step is Step.CODE:
        turn.say(
            _("When you have the code, type it here."),
            (Button(_("I didn't get a code"), auth.NO_CODE), menu.cancel_button()),
        )
    elif step is Step.DETAILS:
        turn.say(_("I'm still waiting for your answer to my question above."))
