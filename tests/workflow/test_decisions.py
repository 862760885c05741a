"""Agents' decisions: approval policy, self-approval, rejections, extensions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import delivery
from storage.db import Database
from storage.privacy_models import Action, Approval, RequestEvent
from tests.clock import FakeClock
from tests.workflow.conftest import (
    CUSTOMER_IDENTITY,
    account_id,
    agent,
    bot_messages,
    new_conversation,
    notifications_of,
    open_request,
    reload,
    rows,
)
from workflow import decisions
from workflow.approvals import ApprovalPolicy


async def test_one_approval_approves_and_enqueues(seeded: Database, clock: FakeClock) -> None:
    request = await open_request(seeded, "erasure", now=clock(), account=await account_id(seeded))
    async with seeded.transaction() as session:
        approved = await decisions.approve(
            session, request.reference, agent("alice"), clock(), policy=ApprovalPolicy()
        )
        assert approved.status == "approved" and approved.decided_by == "alice"
    [action] = await rows(seeded, Action, Action.request_id == request.id)
    assert action.status == "ready" and action.kind == "erasure"
    with pytest.raises(decisions.AlreadyDecided):
        async with seeded.transaction() as session:
            await decisions.approve(session, request.reference, agent("bob"), clock())


async def test_erasure_with_two_approvers_needs_two_different_agents(
    seeded: Database, clock: FakeClock
) -> None:
    policy = ApprovalPolicy(erasure_approvers=2)
    request = await open_request(seeded, "erasure", now=clock(), account=await account_id(seeded))
    async with seeded.transaction() as session:
        first = await decisions.approve(session, request.reference, agent("alice"), policy=policy)
        assert first.status == "awaiting_approval"
    with pytest.raises(decisions.AlreadyDecided, match="different agent"):
        async with seeded.transaction() as session:
            await decisions.approve(session, request.reference, agent("alice"), policy=policy)
    assert await rows(seeded, Action, Action.request_id == request.id) == []
    async with seeded.transaction() as session:
        second = await decisions.approve(session, request.reference, agent("bob"), policy=policy)
        assert second.status == "approved" and second.decided_by == "alice, bob"
    assert len(await rows(seeded, Action, Action.request_id == request.id)) == 1
    votes = await rows(seeded, Approval, Approval.request_id == request.id)
    assert [(v.approver, v.decision) for v in votes] == [("alice", "approve"), ("bob", "approve")]


async def test_the_requester_can_never_decide_their_own_request(
    seeded: Database, clock: FakeClock
) -> None:
    request = await open_request(seeded, "access", now=clock(), account=await account_id(seeded))
    same_person = agent(CUSTOMER_IDENTITY)  # the agent's identity hashes to requester_ref
    for decide in (
        lambda s: decisions.approve(s, request.reference, same_person),
        lambda s: decisions.reject(s, request.reference, same_person, "no"),
        lambda s: decisions.extend(s, request.reference, same_person, "busy"),
    ):
        with pytest.raises(decisions.SelfApprovalRefused):
            async with seeded.transaction() as session:
                await decide(session)
    assert (await reload(seeded, request.reference)).status == "awaiting_approval"


async def test_unknown_reference_is_not_found(seeded: Database) -> None:
    with pytest.raises(decisions.NotFound):
        async with seeded.transaction() as session:
            await decisions.approve(session, "PR-XXXXXX", agent("alice"))


async def test_rejection_needs_a_reason_that_reaches_the_customers_web_chat(
    seeded: Database, clock: FakeClock
) -> None:
    conversation_id = await new_conversation(seeded)
    request = await open_request(
        seeded,
        "erasure",
        now=clock(),
        account=await account_id(seeded),
        conversation_id=conversation_id,
    )
    for blank in ("", "   "):
        with pytest.raises(decisions.ReasonRequired):
            async with seeded.transaction() as session:
                await decisions.reject(session, request.reference, agent("alice"), blank)
    reason = "You have unpaid invoices that the bookkeeping act requires us to keep."
    async with seeded.transaction() as session:
        rejected = await decisions.reject(session, request.reference, agent("alice"), reason)
        assert rejected.status == "rejected" and rejected.decision_reason == reason
    assert await delivery.dispatch(seeded, clock()) == 2, "the chat and the verified contact"
    assert await delivery.dispatch(seeded, clock()) == 0, "delivered exactly once"
    [message] = await bot_messages(seeded, conversation_id)
    assert reason in message and request.reference in message and "Datatilsynet" in message
    notes = [n for n in await notifications_of(seeded, request.id) if n.event == "rejected"]
    assert sorted((n.channel, n.status) for n in notes) == [
        ("email", "delivered"),
        ("webchat", "delivered"),
    ]


async def test_rejection_in_danish(seeded: Database, clock: FakeClock) -> None:
    conversation_id = await new_conversation(seeded)
    request = await open_request(
        seeded,
        "access",
        now=clock(),
        account=await account_id(seeded),
        conversation_id=conversation_id,
        language="da",
    )
    async with seeded.transaction() as session:
        await decisions.reject(session, request.reference, agent("alice"), "Dobbelt anmodning.")
    await delivery.dispatch(seeded, clock())
    [message] = await bot_messages(seeded, conversation_id)
    assert "Dobbelt anmodning." in message and request.reference in message


async def test_extension_rules(seeded: Database, clock: FakeClock) -> None:
    conversation_id = await new_conversation(seeded)
    received = clock()
    request = await open_request(
        seeded,
        "access",
        now=received,
        account=await account_id(seeded),
        conversation_id=conversation_id,
    )
    with pytest.raises(decisions.ReasonRequired):
        async with seeded.transaction() as session:
            await decisions.extend(session, request.reference, agent("alice"), " ")
    with pytest.raises(decisions.ExtensionRefused):
        async with seeded.transaction() as session:
            await decisions.extend(session, request.reference, agent("alice"), "x", months=3)
    clock.advance(days=10)
    async with seeded.transaction() as session:
        once = await decisions.extend(
            session,
            request.reference,
            agent("alice"),
            "We are collecting archived logs.",
            now=clock(),
        )
        assert once.due_at == received.replace(month=3, day=31) and once.extended
    with pytest.raises(decisions.ExtensionRefused, match="at most 2"):
        async with seeded.transaction() as session:
            await decisions.extend(session, request.reference, agent("bob"), "more", 2, clock())
    async with seeded.transaction() as session:
        twice = await decisions.extend(
            session, request.reference, agent("bob"), "Still collecting.", 1, clock()
        )
        assert twice.due_at == received.replace(month=4, day=30) and twice.extension_months == 2
    events = await rows(seeded, RequestEvent, RequestEvent.request_id == request.id)
    assert "Still collecting." in (events[-1].reason or "")
    await delivery.dispatch(seeded, clock())
    messages = await bot_messages(seeded, conversation_id)
    assert len(messages) == 2 and "We are collecting archived logs." in messages[0]
    assert "31 March 2027" in messages[0] and "30 April 2027" in messages[1]


async def test_extension_only_before_the_original_due_date(
    seeded: Database, clock: FakeClock
) -> None:
    request = await open_request(seeded, "access", now=clock(), account=await account_id(seeded))
    late = request.due_at + timedelta(minutes=1)
    with pytest.raises(decisions.ExtensionRefused, match="original deadline"):
        async with seeded.transaction() as session:
            await decisions.extend(session, request.reference, agent("alice"), "late", now=late)
    async with seeded.transaction() as session:
        await decisions.reject(session, request.reference, agent("alice"), "duplicate")
    with pytest.raises(decisions.ExtensionRefused, match="rejected"):
        async with seeded.transaction() as session:
            await decisions.extend(session, request.reference, agent("alice"), "x", now=clock())


async def test_reject_after_first_of_two_approvals_is_allowed(
    seeded: Database, clock: FakeClock
) -> None:
    policy = ApprovalPolicy(erasure_approvers=2)
    request = await open_request(seeded, "erasure", now=clock(), account=await account_id(seeded))
    async with seeded.transaction() as session:
        await decisions.approve(session, request.reference, agent("alice"), policy=policy)
    async with seeded.transaction() as session:
        await decisions.reject(session, request.reference, agent("alice"), "Changed my mind")
    votes = await rows(seeded, Approval, Approval.request_id == request.id)
    assert [(v.approver, v.decision) for v in votes] == [("alice", "reject")]
    with pytest.raises(decisions.AlreadyDecided):
        async with seeded.transaction() as session:
            await decisions.approve(session, request.reference, agent("bob"), policy=policy)
