"""Four eyes on erasure: with ERASURE_APPROVERS=2 two different agents must approve.

The approval policy is process-wide (set from the settings when a runtime is built), so
this module builds its runtime with two erasure approvers and puts the previous policy
back afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.runtime import Runtime
from storage.privacy_models import Action, Approval
from tests.conftest import make_settings
from tests.console.conftest import ConsoleUser, OpenRequest, add_agent
from tests.console.test_decisions import flash
from tests.workflow.conftest import reload, rows

Users = Callable[[], ConsoleUser]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, erasure_approvers=2)


async def test_an_erasure_needs_two_different_agents(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    assert runtime.services.policy.approvals_needed("erasure") == 2
    request = await request_for("erasure")
    path = f"/agent/requests/{request.reference}"
    await add_agent(runtime.db, "mette")
    await add_agent(runtime.db, "jonas")
    mette, jonas = user(), user()
    await mette.login("mette")
    await jonas.login("jonas")

    status, page, _ = await mette.get(path)
    assert "(0 of 2 approvals)" in page
    assert 'name="confirm"' in page, "an erasure must be confirmed"
    status, page, _ = await mette.post(f"{path}/approve", {})
    assert status == 400
    assert flash(page) == "Tick the box to confirm that the erasure cannot be undone."
    assert await rows(runtime.db, Approval, Approval.request_id == request.id) == []

    status, _page, response = await mette.post(f"{path}/approve", {"confirm": "yes"})
    assert status == 303 and response.headers["Location"].endswith("?done=approval_recorded")
    assert (await reload(runtime.db, request.reference)).status == "awaiting_approval"
    assert await rows(runtime.db, Action, Action.request_id == request.id) == []
    _status, page, _ = await mette.get(response.headers["Location"])
    assert flash(page) == "Your approval is recorded. Another agent must approve too."
    assert "(1 of 2 approvals)" in page
    assert 'data-testid="approve"' not in page, "mette cannot approve twice"

    status, page, _ = await mette.post(f"{path}/approve", {"confirm": "yes"})
    assert status == 409
    assert flash(page) == (
        "You have already approved this request; a different agent must approve it."
    )
    assert len(await rows(runtime.db, Approval, Approval.request_id == request.id)) == 1

    _status, page, _ = await jonas.get(path)
    assert 'data-testid="approve"' in page
    status, _page, response = await jonas.post(f"{path}/approve", {"confirm": "yes"})
    assert status == 303 and response.headers["Location"].endswith("?done=approved")
    after = await reload(runtime.db, request.reference)
    assert (after.status, after.decided_by) == ("approved", "mette, jonas")
    [action] = await rows(runtime.db, Action, Action.request_id == request.id)
    assert action.kind == "erasure"


async def test_one_approval_is_enough_for_other_kinds(
    user: Users, runtime: Runtime, request_for: OpenRequest
) -> None:
    request = await request_for("restriction")
    await add_agent(runtime.db, "mette")
    mette = user()
    await mette.login("mette")
    status, _page, _ = await mette.post(f"/agent/requests/{request.reference}/approve", {})
    assert status == 303
    assert (await reload(runtime.db, request.reference)).status == "approved"
