"""The approvals channel: one message per request, decisions by approvers, edits in place."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack import approval_view
from bot.channels.slack.approvals_actions import (
    EXTEND_VIEW,
    MONTHS_BLOCK,
    MONTHS_INPUT,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_VIEW,
)
from storage.privacy_models import AgentAlert, PrivacyRequest
from tests.slack.helpers import (
    AGENT1,
    AGENT2,
    APPROVALS,
    CUSTOMER,
    OUTSIDER,
    SlackEnv,
    blocks_text,
    open_request,
    status_of,
)
from workflow import alerts


async def _posted(slack: SlackEnv, reference: str) -> dict[str, Any]:
    posts = [
        p for p in slack.api.to("chat.postMessage", channel=APPROVALS) if reference in p["text"]
    ]
    assert len(posts) == 1, f"one message per request, got {len(posts)}"
    return posts[0]


def _updates(slack: SlackEnv) -> list[dict[str, Any]]:
    return slack.api.to("chat.update", channel=APPROVALS)


async def test_a_request_awaiting_approval_gets_one_message_without_contact_details(
    slack: SlackEnv,
) -> None:
    request = await open_request(slack.runtime, "erasure")
    synced = await slack.sync()
    assert synced.posted == 1
    post = await _posted(slack, request.reference)
    shown = blocks_text(post["blocks"])
    for fact in ("Erasure", "Anna's Bageri ApS", "one-time code by email", "days left"):
        assert fact in shown, fact
    assert "anna@example.dk" not in shown and "+45" not in shown
    action_ids = [
        e["action_id"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert action_ids == ["approval_approve", "approval_reject", "approval_extend"]
    assert (await slack.sync()).posted == 0, "never a second message"
    message = await slack.message_of(request.id)
    assert message is not None and message.ts and message.last_status == "awaiting_approval"


async def test_two_processes_syncing_at_once_post_one_message(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    results = await asyncio.gather(slack.sync(), slack.sync(), slack.sync())
    assert sum(r.posted for r in results) == 1
    await _posted(slack, request.reference)


async def test_a_non_approver_is_refused_ephemerally(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    response = await slack.click("approval_approve", request.reference, user=OUTSIDER)
    assert response.status == 200
    await slack.settle()
    refusals = slack.api.to("chat.postEphemeral", user=OUTSIDER, channel=APPROVALS)
    assert len(refusals) == 1 and "privacy team" in refusals[0]["text"]
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"
    assert _updates(slack) == []


async def test_the_requester_cannot_approve_their_own_request(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure", requester=AGENT1)
    await slack.sync()
    await slack.click("approval_approve", request.reference, user=AGENT1)
    await slack.settle()
    refusals = slack.api.to("chat.postEphemeral", user=AGENT1)
    assert len(refusals) == 1 and "requested by you" in refusals[0]["text"]
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"


async def test_approving_updates_the_message_in_place(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    post = await _posted(slack, request.reference)
    message = await slack.message_of(request.id)
    assert message is not None

    await slack.click("approval_approve", request.reference, user=AGENT1)
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "approved"
    updates = _updates(slack)
    assert len(updates) == 1
    assert updates[0]["ts"] == message.ts and updates[0]["channel"] == post["channel"]
    shown = blocks_text(updates[0]["blocks"])
    assert "Approved by <@UAGENT1>" in shown
    assert "approval_approve" not in str(updates[0]["blocks"]), "no more Approve button"
    assert (await slack.sync()).updated == 0, "nothing changed since"
    assert slack.api.to("chat.postEphemeral") == []


async def test_the_same_click_delivered_twice_decides_once(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    for _ in range(2):
        response = await slack.click(
            "approval_approve", request.reference, user=AGENT1, trigger_id="trigger-same"
        )
        assert response.status == 200
    await slack.settle()
    assert len(_updates(slack)) == 1
    assert slack.api.to("chat.postEphemeral") == [], "the copy was skipped, not refused"


@pytest.mark.parametrize("slack_overrides", [{"erasure_approvers": 2}])
async def test_an_erasure_needing_two_approvers_shows_one_of_two(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    assert "0 of 2 approvals" in blocks_text((await _posted(slack, request.reference))["blocks"])

    await slack.click("approval_approve", request.reference, user=AGENT1)
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"
    first = _updates(slack)[-1]
    assert "1 of 2 approvals" in blocks_text(first["blocks"])

    await slack.click("approval_approve", request.reference, user=AGENT1)
    await slack.settle()
    again = slack.api.to("chat.postEphemeral", user=AGENT1)
    assert len(again) == 1 and "already approved" in again[0]["text"]

    await slack.click("approval_approve", request.reference, user=AGENT2)
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "approved"
    last = _updates(slack)[-1]
    assert last["ts"] == first["ts"]
    assert "Approved by <@UAGENT1>, <@UAGENT2>" in blocks_text(last["blocks"])


async def test_reject_asks_for_a_reason_in_a_modal_then_rejects(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    await slack.click("approval_reject", request.reference, user=AGENT1, trigger_id="trig-r")
    await slack.settle()
    opened = slack.api.to("views.open", trigger_id="trig-r")
    assert len(opened) == 1 and opened[0]["view"]["callback_id"] == REJECT_VIEW
    meta = {"reference": request.reference, "channel": APPROVALS}

    empty = await slack.submit(REJECT_VIEW, _reason("   "), meta, user=AGENT1)
    assert empty.status == 200
    answer = await empty.json()
    assert answer["response_action"] == "errors" and REASON_BLOCK in answer["errors"]
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"

    done = await slack.submit(
        REJECT_VIEW, _reason("We must keep the account: open debt"), meta, user=AGENT1
    )
    assert done.status == 200 and (await done.text()) == ""
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "rejected"
    shown = blocks_text(_updates(slack)[-1]["blocks"])
    assert "Rejected by <@UAGENT1>. Reason: We must keep the account: open debt" in shown


async def test_a_non_approver_gets_no_modal(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.click("approval_reject", request.reference, user=OUTSIDER)
    await slack.settle()
    assert slack.api.to("views.open") == []
    assert len(slack.api.to("chat.postEphemeral", user=OUTSIDER)) == 1
    meta = {"reference": request.reference, "channel": APPROVALS}
    await slack.submit(REJECT_VIEW, _reason("forged"), meta, user=OUTSIDER)
    await slack.settle()
    assert await status_of(slack.runtime, request.id) == "awaiting_approval"


async def test_extend_by_two_months_moves_the_due_date(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    await slack.click("approval_extend", request.reference, user=AGENT2, trigger_id="trig-e")
    await slack.settle()
    assert slack.api.to("views.open", trigger_id="trig-e")[0]["view"]["callback_id"] == EXTEND_VIEW
    values = {
        **_reason("Waiting for the bank's answer"),
        MONTHS_BLOCK: {MONTHS_INPUT: {"type": "radio_buttons", "selected_option": {"value": "2"}}},
    }
    meta = {"reference": request.reference, "channel": APPROVALS}
    await slack.submit(EXTEND_VIEW, values, meta, user=AGENT2)
    await slack.settle()
    async with slack.runtime.db.sessions() as session:
        extended = await session.get(PrivacyRequest, request.id)
    assert extended is not None and extended.extension_months == 2
    assert extended.status == "awaiting_approval"
    shown = blocks_text(_updates(slack)[-1]["blocks"])
    assert "Deadline extended by 2 months. Reason: Waiting for the bank's answer" in shown


@pytest.mark.parametrize(
    "slack_overrides", [{"slack_approver_ids": "", "slack_approver_group": "S0PRIVACY"}]
)
async def test_members_of_the_approver_group_may_decide_and_the_group_is_cached(
    slack: SlackEnv,
) -> None:
    slack.api.group_members = ["UGROUPMEMBER"]
    first = await open_request(slack.runtime, "erasure")
    second = await open_request(slack.runtime, "rectification")
    await slack.sync()
    await slack.click("approval_approve", first.reference, user="UGROUPMEMBER")
    await slack.settle()
    await slack.click("approval_approve", second.reference, user=OUTSIDER)
    await slack.settle()
    assert await status_of(slack.runtime, first.id) == "approved"
    assert await status_of(slack.runtime, second.id) == "awaiting_approval"
    assert len(slack.api.to("usergroups.users.list", usergroup="S0PRIVACY")) == 1


async def test_the_message_follows_the_request_to_its_end(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    await slack.sync()
    await slack.click("approval_approve", request.reference, user=AGENT1)
    await slack.settle()
    async with slack.runtime.db.transaction() as session:
        from workflow import lifecycle

        row = await lifecycle.load(session, request_id=request.id)
        await lifecycle.transition(session, row, "in_progress", actor="worker", now=row.updated_at)
        row.failure_reason = "erasure action failed after 5 attempt(s): TimeoutError"
        await lifecycle.transition(session, row, "failed", actor="worker", now=row.updated_at)
    synced = await slack.sync()
    assert synced.updated == 1
    shown = blocks_text(_updates(slack)[-1]["blocks"])
    assert "Failed" in shown and "TimeoutError" in shown
    assert "approval_extend" not in str(_updates(slack)[-1]["blocks"])
    assert (await slack.sync()).updated == 0, "a closed request's message is final"


async def test_agent_alerts_are_posted_once(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    now = slack.runtime.services.clock()
    async with slack.runtime.db.transaction() as session:
        row = await session.get(PrivacyRequest, request.id)
        assert row is not None
        await alerts.raise_alert(session, "deadline_soon", now=now, request=row, dedup_key="k1")
        await alerts.raise_alert(
            session, "action_failed", now=now, request=row, params={"error": "boom"}
        )
    synced = await slack.sync()
    assert synced.alerts == 2, "the awaiting-approval alert is the approval message itself"
    texts = [p["text"] for p in slack.api.to("chat.postMessage", channel=APPROVALS)]
    assert any("is due" in t and request.reference in t for t in texts)
    assert any("failed: boom" in t for t in texts)
    assert (await slack.sync()).alerts == 0
    async with slack.runtime.db.sessions() as session:
        states = (await session.scalars(select(AgentAlert.status))).all()
    assert set(states) == {"delivered"}


async def test_a_failed_post_is_retried_by_the_next_sync(slack: SlackEnv) -> None:
    request = await open_request(slack.runtime, "erasure")
    slack.api.failing.add("chat.postMessage")
    assert (await slack.sync()).posted == 0
    assert await slack.message_of(request.id) is None, "the claim was released"
    slack.api.failing.clear()
    assert (await slack.sync()).posted == 1


def test_agent_mentions() -> None:
    assert approval_view.agent_mention("slack:U1") == "<@U1>"
    assert approval_view.agent_mention("agent:<b>") == "&lt;b&gt;"
    assert CUSTOMER


def _reason(text: str) -> dict[str, Any]:
    return {REASON_BLOCK: {REASON_INPUT: {"type": "plain_text_input", "value": text}}}
