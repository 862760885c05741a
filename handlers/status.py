"""'How is my request going?': the customer's requests, once they are verified.

Open requests show their deadline; finished ones show how they ended and, while it is
valid, the link to what they delivered, so a customer who closed the tab finds it again.
"""

from __future__ import annotations

from handlers import auth, recipient
from handlers.state import Step
from handlers.turn import Turn
from locales import N_, _, format_date
from workflow import lifecycle
from workflow import requests as privacy_requests
from workflow.lifecycle import Status

KIND_LABELS = {
    "access": N_("Copy of your data"),
    "portability": N_("Data export"),
    "rectification": N_("Correction of your details"),
    "erasure": N_("Deletion of your account"),
    "restriction": N_("Restriction of processing"),
    "objection": N_("Objection to marketing and profiling"),
    "human_review": N_("Human review of a decision"),
}
STATUS_LABELS: dict[str, str] = {
    Status.RECEIVED: N_("received"),
    Status.AWAITING_VERIFICATION: N_("waiting for verification"),
    Status.VERIFIED: N_("verified"),
    Status.AWAITING_APPROVAL: N_("waiting for our privacy team"),
    Status.APPROVED: N_("approved, about to be carried out"),
    Status.IN_PROGRESS: N_("being carried out"),
    Status.COMPLETED: N_("completed"),
    Status.REJECTED: N_("rejected"),
    Status.CANCELLED: N_("cancelled"),
    Status.FAILED: N_("stopped by an error; our team has been alerted"),
}


async def show(turn: Turn) -> None:
    account = auth.account_id(turn)
    if account is None:
        begin(turn)
        return
    found = await privacy_requests.customer_requests(turn.session, account, turn.now())
    if not found:
        turn.say(_("You have no privacy requests with us at the moment."))
        return
    links = await privacy_requests.result_links(turn.session, [r.id for r in found], turn.now())
    lines = []
    for request in found:
        kind = _(KIND_LABELS.get(request.kind, request.kind))
        status = _(STATUS_LABELS.get(request.status, request.status))
        if request.status in lifecycle.OPEN:
            line = _("{reference}: {kind}, {status}. Answer due by {due_date}.").format(
                reference=request.reference,
                kind=kind,
                status=status,
                due_date=format_date(request.due_at),
            )
        else:
            line = _("{reference}: {kind}, {status}.").format(
                reference=request.reference, kind=kind, status=status
            )
        if request.id in links:
            line += " " + _("Download: {url}").format(url=links[request.id])
        lines.append(line)
    turn.say(_("Your requests:") + "\n" + "\n".join(lines))


def begin(turn: Turn) -> None:
    turn.dialog.start("status")
    auth.ask_for_contact(turn)


async def handle(turn: Turn) -> None:
    if not auth.is_verified(turn) and await recipient.status(turn):
        return  # someone who received an SMS through us asks about their requests
    if auth.is_verified(turn):
        await show(turn)
        return
    begin(turn)


async def resume(turn: Turn) -> bool:
    if turn.dialog.step not in (Step.IDENTIFY, Step.CODE):
        return False
    if turn.incoming.button == "cancel":
        turn.dialog.end()
        turn.say(_("All right, I have stopped. Nothing has been changed."))
        return True
    if await auth.step(turn):
        turn.dialog.end()
        await show(turn)
    return True
