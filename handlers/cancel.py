"""'Stop' / 'never mind': end the open dialog, or withdraw a request not yet carried out."""

from __future__ import annotations

from handlers import auth, privacy
from handlers.status import KIND_LABELS
from handlers.turn import Turn
from handlers.types import Button
from locales import _
from workflow import requests as privacy_requests

_CANCELLABLE = {"received", "awaiting_verification", "verified", "awaiting_approval", "approved"}
_WITHDRAW = "withdraw:"


async def _offer(turn: Turn) -> None:
    found = await privacy_requests.customer_requests(turn.session, auth.account_id(turn))
    open_ones = [r for r in found if r.status in _CANCELLABLE]
    if not open_ones:
        privacy.end_flow(turn)
        turn.say(_("You have no open requests that can still be cancelled."))
        return
    turn.state.update({"flow": "cancel", "step": "choose"})
    buttons = tuple(
        Button(
            _("Cancel {reference} ({kind})").format(
                reference=r.reference, kind=_(KIND_LABELS.get(r.kind, r.kind))
            ),
            _WITHDRAW + r.reference,
        )
        for r in open_ones[:5]
    )
    turn.say(_("Which request should I cancel?"), (*buttons, Button(_("Keep them all"), "keep")))


async def handle(turn: Turn) -> None:
    if turn.state.get("flow") in privacy.RIGHTS:
        privacy.cancel(turn)
        return
    if turn.state.get("flow") in ("status", "cancel") and turn.incoming.button == "cancel":
        privacy.end_flow(turn)
        turn.say(_("All right, I have stopped. Nothing was sent or changed."))
        return
    if auth.is_verified(turn):
        await _offer(turn)
        return
    privacy.end_flow(turn)
    turn.state["flow"] = "cancel"
    auth.ask_for_contact(turn)


async def resume(turn: Turn) -> bool:
    step = turn.state.get("step")
    if step in (auth.IDENTIFY, auth.CODE):
        if await auth.step(turn):
            await _offer(turn)
        return True
    button = turn.incoming.button or ""
    if step == "choose" and button == "keep":
        privacy.end_flow(turn)
        turn.say(_("All right, your requests continue as planned."))
        return True
    if step == "choose" and button.startswith(_WITHDRAW):
        reference = button.removeprefix(_WITHDRAW)
        cancelled = await privacy_requests.cancel_by_customer(
            turn.session, reference, auth.account_id(turn), now=turn.now()
        )
        privacy.end_flow(turn)
        if cancelled is None:
            turn.say(
                _("Request {reference} can no longer be cancelled.").format(reference=reference)
            )
        else:
            turn.say(_("Request {reference} is cancelled.").format(reference=reference))
        return True
    return False
