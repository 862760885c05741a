"""'Stop' / 'never mind': end the open dialog, or withdraw a request not yet carried out."""

from __future__ import annotations

from handlers import auth, privacy
from handlers.state import Step
from handlers.status import KIND_LABELS
from handlers.turn import Turn
from handlers.types import Button
from locales import _
from storage.privacy_models import PrivacyRequest
from workflow import requests as privacy_requests

_CANCELLABLE = {"received", "awaiting_verification", "verified", "awaiting_approval", "approved"}
_WITHDRAW = "withdraw:"


async def _offer(turn: Turn) -> None:
    account = auth.account_id(turn)
    if account is None:
        _verify_first(turn)
        return
    found = await privacy_requests.customer_requests(turn.session, account, turn.now())
    open_ones = [r for r in found if r.status in _CANCELLABLE]
    if not open_ones:
        privacy.end_flow(turn)
        turn.say(_("You have no open requests that can still be cancelled."))
        return
    chosen = _the_one_meant(turn, open_ones)
    if chosen is not None:
        await _withdraw(turn, chosen)
        return
    turn.dialog.start("cancel", Step.CHOOSE)
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


def _the_one_meant(turn: Turn, open_ones: list[PrivacyRequest]) -> str | None:
    """The request the customer means, when that is clear: the kind they named, the only
    one open, or the one they made in this chat."""
    named = turn.understanding.rights if turn.understanding is not None else ()
    of_kind = [r for r in open_ones if r.kind in named]
    if len(of_kind) == 1:
        return of_kind[0].reference
    if len(open_ones) == 1:
        return open_ones[0].reference
    references = {r.reference for r in open_ones}
    if not named and turn.dialog.last_reference in references:
        return turn.dialog.last_reference
    return None


async def _withdraw(turn: Turn, reference: str) -> None:
    account = auth.account_id(turn)
    cancelled = (
        await privacy_requests.cancel_by_customer(turn.session, reference, account, now=turn.now())
        if account is not None
        else None
    )
    privacy.end_flow(turn)
    if cancelled is None:
        turn.say(_("Request {reference} can no longer be cancelled.").format(reference=reference))
    else:
        turn.say(_("Request {reference} is cancelled.").format(reference=reference))


def _verify_first(turn: Turn) -> None:
    turn.dialog.start("cancel")
    auth.ask_for_contact(turn)


async def handle(turn: Turn) -> None:
    if turn.dialog.flow in privacy.RIGHTS:
        privacy.cancel(turn)
        return
    if turn.dialog.flow in ("status", "cancel") and turn.incoming.button == "cancel":
        privacy.end_flow(turn)
        turn.say(_("All right, I have stopped. Nothing has been changed."))
        return
    if auth.is_verified(turn):
        await _offer(turn)
        return
    _verify_first(turn)


async def resume(turn: Turn) -> bool:
    step = turn.dialog.step
    button = turn.incoming.button or ""
    if button == "cancel":
        privacy.end_flow(turn)
        turn.say(_("All right, I have stopped. Nothing has been changed."))
        return True
    if step in (Step.IDENTIFY, Step.CODE):
        if await auth.step(turn):
            await _offer(turn)
        return True
    if step is Step.CHOOSE and button == "keep":
        privacy.end_flow(turn)
        turn.say(_("All right, your requests continue as planned."))
        return True
    if step is Step.CHOOSE and button.startswith(_WITHDRAW):
        await _withdraw(turn, button.removeprefix(_WITHDRAW))
        return True
    return False
