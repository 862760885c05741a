"""A forwarded referral is posted once to the approvals channel, with the number masked."""

from __future__ import annotations

import json

from sqlalchemy import select, update

from storage.models import Account
from storage.privacy_models import AgentAlert
from tests.referrals.conftest import BEN_ONLY, BOTH, account_of, forward
from tests.slack.helpers import APPROVALS, SlackEnv, blocks_text


async def test_each_forwarded_referral_gets_one_card(slack: SlackEnv) -> None:
    db = slack.runtime.db
    anna = await account_of(db, "anna@example.dk")
    async with db.transaction() as session:
        await session.execute(
            update(Account).where(Account.id == anna).values(honours_recipient_stop=True)
        )
    views = await forward(db, BOTH, kind="objection", details="Stop, I am 31000003")
    synced = await slack.sync()
    assert synced.alerts == 2
    posts = slack.api.to("chat.postMessage", channel=APPROVALS)
    assert len(posts) == 2
    shown = {v.reference: "" for v in views}
    for post in posts:
        blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
        text = blocks_text(blocks)
        reference = next(r for r in shown if r in post["text"])
        shown[reference] = text
        assert "Stop messages request from an SMS recipient" in post["text"]
        assert "+45 31 ** ** 03" in text and "Forwarded" in text
        assert f"privacybot referrals show {reference}" in text
    assert any(
        "AnnasBageri" in t and "messages to the number are stopped" in t for t in shown.values()
    )
    assert any("BensBikes" in t and "stopped" not in t for t in shown.values())
    assert "31000003" not in json.dumps(posts)
    assert (await slack.sync()).alerts == 0, "posted once"


async def test_a_closed_account_is_shown_as_not_forwarded(slack: SlackEnv) -> None:
    db = slack.runtime.db
    ben = await account_of(db, "ben@example.com")
    async with db.transaction() as session:
        await session.execute(update(Account).where(Account.id == ben).values(status="closed"))
    await forward(db, BEN_ONLY)
    await slack.sync()
    [post] = slack.api.to("chat.postMessage", channel=APPROVALS)
    blocks = post["blocks"] if isinstance(post["blocks"], list) else json.loads(post["blocks"])
    assert "Not forwarded: the sending account is closed." in blocks_text(blocks)
    async with db.sessions() as session:
        assert set(await session.scalars(select(AgentAlert.status))) == {"delivered"}
