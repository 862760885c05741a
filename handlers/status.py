"""'How is my request going?': the customer's requests, once they are verified."""

from __future__ import annotations

from handlers import auth
from handlers.privacy import end_flow
from handlers.turn import Turn
from locales import N_, _, format_date
from workflow import requests as privacy_requests

KIND_LABELS = {
    "access": N_("Copy of your data"),
    "portability": N_("Data export"),
    "rectification": N_("Correction of your details"),
    "erasure": N_("Deletion of your account"),
    "restriction": N_("Restriction of processing"),
    "objection": N_("Objection to marketing and profiling"),
    "human_review": N_("Human review of a decision"),
}
STATUS_LABELS = {
    "received": N_("received"),
    "awaiting_verification": N_("waiting for verification"),
    "verified": N_("verified"),
    "awaiting_approval": N_("waiting for our privacy team"),
    "approved": N_("approved, about to be carried out"),
    "in_progress": N_("being carried out"),
    "completed": N_("completed"),
    "rejected": N_("rejected"),
    "cancelled": N_("cancelled"),
    "failed": N_("stopped by an error; our team has been alerted"),
}


async def show(turn: Turn) -> None:
    found = await privacy_requests.customer_requests(turn.session, auth.account_id(turn))
    if not found:
        turn.say(_("You have no privacy requests with us at the moment."))
        return
    lines = [
        _("{reference}: {kind}, {status}. Answer due by {due_date}.").format(
            reference=request.reference,
            kind=_(KIND_LABELS.get(request.kind, request.kind)),
            status=_(STATUS_LABELS.get(request.status, request.status)),
            due_date=format_date(request.due_at),
        )
        for request in found
    ]
    turn.say(_("Your requests:") + "\n" + "\n".join(lines))


async def handle(turn: Turn) -> None:
    if auth.is_verified(turn):
        await show(turn)
        return
    end_flow(turn)
    turn.state["flow"] = "status"
    auth.ask_for_contact(turn)


async def resume(turn: Turn) -> bool:
    if turn.state.get("step") not in (auth.IDENTIFY, auth.CODE):
        return False
    if await auth.step(turn):
        end_flow(turn)
        await show(turn)
    return True
