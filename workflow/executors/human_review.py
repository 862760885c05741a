"""Human review of an automated decision (Art. 22): open a case for an agent.

Modelling: the action raises an agent alert naming the decision and succeeds with the
notice "a person will review"; the request stays `in_progress` (KEEPS_REQUEST_OPEN)
until an agent records the answer (`privacybot requests answer ID --agent NAME --text
TEXT`, `workflow.decisions.answer`), which completes it and sends the answer to the
customer. The alert carries a dedup key, so a re-run opens no second case.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.privacy_models import PrivacyRequest
from workflow import alerts
from workflow.executors import ActionContext, ExecutorResult, PermanentFailure

KEEPS_REQUEST_OPEN = True
MAX_DESCRIPTION = 500


async def run(ctx: ActionContext) -> ExecutorResult:
    description = str(ctx.details.get("decision") or "").strip()[:MAX_DESCRIPTION]
    async with ctx.db.transaction() as session:
        request = (
            await session.execute(select(PrivacyRequest).where(PrivacyRequest.id == ctx.request_id))
        ).scalar_one_or_none()
        if request is None:
            raise PermanentFailure("the request no longer exists")
        created = await alerts.raise_alert(
            session,
            "human_review",
            now=ctx.now(),
            request=request,
            params={"decision": description},
            dedup_key=f"human_review:{ctx.request_id}",
        )
    return ExecutorResult(effects={"case_opened": created}, notice={"in_review": True})
