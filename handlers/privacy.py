"""The dialog every GDPR right follows: explain and confirm, verify, collect, submit.

A right module (access, erasure, ...) describes itself with a `Right`; this module
runs the steps. Nothing is opened until the customer has pressed `confirm` on a text
that says in plain words what will happen, and has proved who they are.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers import auth
from handlers.turn import Turn
from handlers.types import Button
from locales import _, format_date
from workflow import requests as privacy_requests

CONFIRM = "confirm"
DETAILS = "details"

_YES = {"yes", "y", "ja", "jo", "ok", "okay", "sure", "gerne", "confirm", "continue", "fortsæt"}
_NO = {"no", "n", "nej", "stop", "cancel", "annuller", "fortryd"}


@dataclass(frozen=True, slots=True)
class Right:
    """One GDPR right as the dialog needs it.

    `explain` is the confirmation text; `collect` asks for the details the request
    needs (returns True once `turn.state["details"]` is complete); `prefill` reads
    details from the customer's first message.
    """

    kind: str
    explain: Callable[[], str]
    collect: Callable[[Turn], Awaitable[bool]] | None = None
    prefill: Callable[[Turn], None] | None = None


RIGHTS: dict[str, Right] = {}


def register(right: Right) -> Callable[[Turn], Awaitable[None]]:
    """Make `right` resumable and return the handler that starts its dialog."""
    RIGHTS[right.kind] = right

    async def start(turn: Turn) -> None:
        end_flow(turn)
        turn.state.update({"flow": right.kind, "step": CONFIRM, "details": {}})
        if right.prefill is not None and turn.incoming.text:
            right.prefill(turn)
        turn.say(
            right.explain(),
            (Button(_("Yes, continue"), "confirm"), Button(_("No, cancel"), "cancel")),
        )

    return start


def scratch(turn: Turn) -> dict[str, Any]:
    """Working notes of the open dialog (sub-steps); dropped with the dialog."""
    notes: dict[str, Any] = turn.state.setdefault("scratch", {})
    return notes


def end_flow(turn: Turn) -> None:
    for key in ("flow", "step", "details", "scratch"):
        turn.state.pop(key, None)


def yes_or_no(turn: Turn) -> bool | None:
    if turn.incoming.button in ("confirm", "cancel"):
        return turn.incoming.button == "confirm"
    words = set((turn.incoming.text or "").casefold().replace(",", " ").replace(".", " ").split())
    if words & _NO:
        return False
    if words & _YES:
        return True
    return None


async def resume(turn: Turn) -> bool:
    """Continue the open right dialog with this message. False: not for this dialog."""
    right = RIGHTS.get(turn.state.get("flow", ""))
    if right is None:
        return False
    step = turn.state.get("step")
    if turn.incoming.button == "cancel":
        cancel(turn)
        return True
    if step == CONFIRM:
        answer = yes_or_no(turn)
        if answer is None:
            return False
        if not answer:
            cancel(turn)
            return True
        await proceed(turn, right)
        return True
    if step in (auth.IDENTIFY, auth.CODE):
        if await auth.step(turn):
            await proceed(turn, right)
        return True
    if step == DETAILS and right.collect is not None:
        if await right.collect(turn):
            await submit(turn, right)
        return True
    return False


async def proceed(turn: Turn, right: Right) -> None:
    """After confirmation or verification: verify if needed, then collect, then submit."""
    if not auth.is_verified(turn):
        auth.ask_for_contact(turn)
        return
    if right.collect is not None:
        turn.state["step"] = DETAILS
        if not await right.collect(turn):
            return
    await submit(turn, right)


def cancel(turn: Turn) -> None:
    end_flow(turn)
    turn.say(_("All right, I have stopped. Nothing was sent or changed."))


def requester_ref(turn: Turn) -> str:
    """Who asked, as a keyed hash: lets agents' self-approval be refused without storing ids."""
    who = f"{turn.incoming.channel}:{turn.incoming.sender_id or turn.conversation.id}"
    return hmac.new(turn.services.secret, who.encode(), hashlib.sha256).hexdigest()


async def submit(turn: Turn, right: Right) -> None:
    request = await privacy_requests.open_request(
        turn.session,
        kind=right.kind,
        account_id=auth.account_id(turn),
        conversation_id=turn.conversation.id,
        channel=turn.conversation.channel,
        language=turn.language,
        verified_via=turn.conversation.verified_via,
        details=dict(turn.state.get("details") or {}),
        requester_ref=requester_ref(turn),
        now=turn.now(),
    )
    end_flow(turn)
    if request.status == "awaiting_approval":
        follow_up = _("A member of our privacy team will review it, and I'll write to you here.")
    else:
        follow_up = _("It is being carried out now; I'll write to you here when it is done.")
    turn.say(
        _(
            "Your request is registered with reference {reference}. We will answer by "
            "{due_date} at the latest. {follow_up}"
        ).format(
            reference=request.reference, due_date=format_date(request.due_at), follow_up=follow_up
        )
    )
