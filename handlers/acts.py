"""Short replies that mean the same at every step: thanks, bye, how long, what now.

They are answered briefly, and an open dialog stays where it was: the customer is
reminded what the bot is waiting for.
"""

from __future__ import annotations

from sqlalchemy import select

from handlers import privacy
from handlers.policy.answers import answer_for
from handlers.turn import Turn
from locales import _, format_date
from storage.privacy_models import PrivacyRequest
from workflow import lifecycle
from workflow.lifecycle import Status


async def thanks(turn: Turn) -> None:
    turn.say(_("You're welcome!") if turn.dialog.flow is None else _("You're welcome."))
    privacy.remind(turn)


async def bye(turn: Turn) -> None:
    turn.say(_("Goodbye, and thank you for writing. You can come back here at any time."))


async def _last_request(turn: Turn) -> PrivacyRequest | None:
    reference = turn.dialog.last_reference
    if reference is None:
        return None
    return await turn.session.scalar(
        select(PrivacyRequest).where(PrivacyRequest.reference == reference)
    )


async def how_long(turn: Turn) -> None:
    request = await _last_request(turn)
    if request is not None and request.status in lifecycle.OPEN:
        turn.say(
            _(
                "We answer request {reference} by {due_date} at the latest, and most requests "
                "are done within a few days. I'll write to you here when it is done."
            ).format(reference=request.reference, due_date=format_date(request.due_at))
        )
        return
    turn.say(_(answer_for("deadline").text))
    privacy.remind(turn)


async def what_next(turn: Turn) -> None:
    if turn.dialog.flow is not None:
        privacy.remind(turn)
        return
    request = await _last_request(turn)
    if request is not None and request.status == Status.AWAITING_APPROVAL:
        turn.say(
            _(
                "A person on our privacy team reviews request {reference}. Once it is "
                "approved it is carried out, and I'll write to you here when it is done."
            ).format(reference=request.reference)
        )
        return
    if request is not None and request.status in lifecycle.OPEN:
        turn.say(
            _(
                "Request {reference} is being carried out; I'll write to you when it is done."
            ).format(reference=request.reference)
        )
        return
    turn.say(_("Nothing is waiting for you right now. What else can I help you with?"))
