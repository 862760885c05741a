"""Opening requests: verification required, routing by policy, outbox in one transaction."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from storage.db import Database
from storage.privacy_models import Action, AgentAlert, PrivacyRequest, RequestEvent
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.workflow.conftest import (
    START,
    account_id,
    alerts,
    audit_events,
    new_conversation,
    notifications_of,
    open_request,
    reload,
    rows,
)
from workflow import lifecycle
from workflow import requests as privacy_requests
from workflow.approvals import ApprovalPolicy


def test_lifecycle_table_matches_the_design() -> None:
    path = [
        "received",
        "awaiting_verification",
        "verified",
        "awaiting_approval",
        "approved",
        "in_progress",
        "completed",
    ]
    for current, target in itertools.pairwise(path):
        assert lifecycle.can_move(current, target)
    assert lifecycle.can_move("verified", "approved"), "no agent needed: straight to approved"
    for end in ("completed", "rejected", "cancelled", "failed"):
        assert lifecycle.ALLOWED[end] == frozenset()
    assert not lifecycle.can_move("received", "approved"), "never approved unverified"
    assert not lifecycle.can_move("awaiting_verification", "awaiting_approval")
    assert not lifecycle.can_move("in_progress", "cancelled")
    assert not lifecycle.can_move("completed", "in_progress")


async def test_illegal_transitions_are_refused_and_leave_no_trace(
    seeded: Database, clock: FakeClock
) -> None:
    account = await account_id(seeded)
    opened = await open_request(seeded, "erasure", now=clock(), account=account)
    with pytest.raises(lifecycle.InvalidTransition, match="awaiting_approval to completed"):
        async with seeded.transaction() as session:
            request = await lifecycle.load(session, reference=opened.reference)
            await lifecycle.transition(session, request, "completed", actor="test", now=clock())
    assert (await reload(seeded, opened.reference)).status == "awaiting_approval"


async def test_open_request_refuses_an_unverified_customer(seeded: Database) -> None:
    account = await account_id(seeded)
    for verified_via in (None, ""):
        with pytest.raises(privacy_requests.NotVerified):
            async with seeded.transaction() as session:
                await privacy_requests.open_request(
                    session,
                    kind="access",
                    account_id=account,
                    conversation_id=None,
                    channel="webchat",
                    language="en",
                    verified_via=verified_via,
                    details={},
                    requester_ref="x",
                )
    async with seeded.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


async def test_unknown_kind_is_refused(seeded: Database) -> None:
    with pytest.raises(ValueError, match="unknown request kind"):
        async with seeded.transaction() as session:
            await privacy_requests.open_request(
                session,
                kind="telepathy",
                account_id=1,
                conversation_id=None,
                channel="webchat",
                language="en",
                verified_via="email_code",
                details={},
                requester_ref="x",
            )


async def test_erasure_waits_for_an_agent_with_history_audit_and_alert(
    seeded: Database, clock: FakeClock
) -> None:
    account = await account_id(seeded)
    request = await open_request(seeded, "erasure", now=clock(), account=account)
    assert request.status == "awaiting_approval"
    assert request.reference.startswith("PR-") and len(request.reference) == 9
    assert request.due_at == START.replace(month=2, day=28), "31 Jan + 1 month = 28 Feb"
    events = await rows(seeded, RequestEvent, RequestEvent.request_id == request.id)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "received"),
        ("received", "awaiting_verification"),
        ("awaiting_verification", "verified"),
        ("verified", "awaiting_approval"),
    ]
    assert await audit_events(seeded, request.id) == ["received", "status", "status", "status"]
    assert await rows(seeded, Action, Action.request_id == request.id) == []
    [alert] = await alerts(seeded, "awaiting_approval")
    assert alert.params["reference"] == request.reference
    sent = await notifications_of(seeded, request.id)
    assert [(n.event, n.status) for n in sent] == [
        ("received", "delivered"),  # said in the conversation turn itself
        ("awaiting_approval", "delivered"),
    ]


@pytest.mark.parametrize("kind", ["erasure", "rectification"])
async def test_erasure_and_rectification_always_need_an_agent(
    seeded: Database, clock: FakeClock, kind: str
) -> None:
    lax = ApprovalPolicy(required_kinds=frozenset())
    request = await open_request(
        seeded,
        kind,
        now=clock(),
        account=await account_id(seeded),
        policy=lax,
        details={"field": "email", "value": "new@example.org"},
    )
    assert request.status == "awaiting_approval"


async def test_configurable_kinds_follow_the_policy(seeded: Database, clock: FakeClock) -> None:
    account = await account_id(seeded)
    strict = await open_request(seeded, "access", now=clock(), account=account)
    assert strict.status == "awaiting_approval", "by default an agent approves access"
    lax = ApprovalPolicy(required_kinds=frozenset({"portability"}))
    direct = await open_request(seeded, "access", now=clock(), account=account, policy=lax)
    assert direct.status == "approved"


async def test_objection_is_approved_and_enqueued_in_the_same_transaction(
    seeded: Database, clock: FakeClock
) -> None:
    account = await account_id(seeded)
    strict = ApprovalPolicy(required_kinds=frozenset({"access", "portability", "restriction"}))
    # Rolled back: nothing at all remains, not the request, nor its action or outbox rows.
    with pytest.raises(RuntimeError):
        async with seeded.transaction() as session:
            await privacy_requests.open_request(
                session,
                kind="objection",
                account_id=account,
                conversation_id=None,
                channel="webchat",
                language="en",
                verified_via="sms_code",
                details={"purposes": ["tracking"]},
                requester_ref="x",
                now=clock(),
                policy=strict,
            )
            raise RuntimeError("the turn failed after the request was opened")
    async with seeded.sessions() as session:
        for model in (PrivacyRequest, Action, AgentAlert):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    # Committed: approved at once, with its action ready, in one go.
    request = await open_request(seeded, "objection", now=clock(), account=account, policy=strict)
    assert request.status == "approved"
    [action] = await rows(seeded, Action, Action.request_id == request.id)
    assert (action.kind, action.status, action.account_id) == ("objection", "ready", account)
    assert await alerts(seeded, "awaiting_approval") == [], "no agent is asked"


async def test_customer_sees_open_and_recently_closed_requests_newest_first(
    seeded: Database, clock: FakeClock
) -> None:
    ben, anna = await account_id(seeded), await account_id(seeded, "anna@example.dk")
    old = await open_request(seeded, "access", now=clock(), account=ben)
    async with seeded.transaction() as session:
        assert await privacy_requests.cancel_by_customer(session, old.reference, ben, clock())
    clock.advance(days=1)
    newer = await open_request(seeded, "erasure", now=clock(), account=ben)
    await open_request(seeded, "access", now=clock(), account=anna)
    async with seeded.sessions() as session:
        found = await privacy_requests.customer_requests(session, ben, now=clock())
        assert [r.reference for r in found] == [newer.reference, old.reference]
        later = await privacy_requests.customer_requests(
            session, ben, now=clock() + timedelta(days=91)
        )
        assert [r.reference for r in later] == [newer.reference], "closed >90 days ago: gone"


async def test_cancel_by_customer_only_before_the_work_starts(
    seeded: Database, clock: FakeClock
) -> None:
    ben, anna = await account_id(seeded), await account_id(seeded, "anna@example.dk")
    conversation_id = await new_conversation(seeded)
    objection = await open_request(
        seeded, "objection", now=clock(), account=ben, conversation_id=conversation_id
    )
    async with seeded.transaction() as session:
        assert await privacy_requests.cancel_by_customer(session, objection.reference, anna) is None
        assert await privacy_requests.cancel_by_customer(session, "PR-NOPE42", ben) is None
        cancelled = await privacy_requests.cancel_by_customer(
            session, objection.reference.lower(), ben, now=clock()
        )
        assert cancelled is not None and cancelled.status == "cancelled"
    [action] = await rows(seeded, Action, Action.request_id == objection.id)
    assert action.status == "failed" and action.last_error == "request cancelled"
    async with seeded.transaction() as session:
        again = await privacy_requests.cancel_by_customer(session, objection.reference, ben)
        assert again is None, "a closed request cannot be cancelled again"
    # Once in progress it can no longer be withdrawn.
    erasure = await open_request(seeded, "erasure", now=clock(), account=ben)
    async with seeded.transaction() as session:
        request = await lifecycle.load(session, reference=erasure.reference)
        await lifecycle.transition(session, request, "approved", actor="t", now=clock())
        await lifecycle.transition(session, request, "in_progress", actor="t", now=clock())
    async with seeded.transaction() as session:
        assert await privacy_requests.cancel_by_customer(session, erasure.reference, ben) is None


async def test_details_are_scrubbed_when_the_request_closes(
    seeded: Database, clock: FakeClock
) -> None:
    account = await account_id(seeded)
    request = await open_request(
        seeded,
        "rectification",
        now=clock(),
        account=account,
        details={"field": "email", "value": "new@example.org"},
    )
    assert (await reload(seeded, request.reference)).details["value"] == "new@example.org"
    async with seeded.transaction() as session:
        await privacy_requests.cancel_by_customer(session, request.reference, account, clock())
    assert (await reload(seeded, request.reference)).details == {"field": "email"}


async def test_the_attempts_per_action_come_from_the_settings_passed_in(
    seeded: Database, clock: FakeClock, tmp_path: Path
) -> None:
    """WORKER_MAX_ATTEMPTS reaches the queued action through the policy, not a global."""
    settings = make_settings("sqlite+aiosqlite://", tmp_path, worker_max_attempts=3)
    policy = ApprovalPolicy.from_settings(settings)
    assert policy.max_attempts == 3
    account = await account_id(seeded)
    opened = await open_request(seeded, "objection", now=clock(), account=account, policy=policy)
    (action,) = await rows(seeded, Action, Action.request_id == opened.id)
    assert action.max_attempts == 3
    other = await open_request(
        seeded,
        "access",
        now=clock(),
        account=account,
        policy=ApprovalPolicy(required_kinds=frozenset()),
    )
    (default,) = await rows(seeded, Action, Action.request_id == other.id)
    assert default.max_attempts == 5


async def test_statuses_are_stored_as_the_same_strings(seeded: Database, clock: FakeClock) -> None:
    """The enums name the statuses; the columns keep their plain string values."""
    assert [str(s) for s in lifecycle.STATUSES] == [s.value for s in lifecycle.Status]
    account = await account_id(seeded)
    opened = await open_request(seeded, "objection", now=clock(), account=account)
    async with seeded.sessions() as session:
        raw = (
            await session.execute(
                text(
                    "SELECT r.status, a.status FROM privacy_requests r "
                    "JOIN actions a ON a.request_id = r.id WHERE r.id = :id"
                ),
                {"id": opened.id},
            )
        ).one()
    assert tuple(raw) == ("approved", "ready")
    assert type(raw[0]) is str and raw[0] == lifecycle.Status.APPROVED
