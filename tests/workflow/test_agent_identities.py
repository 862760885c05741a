"""Issue 13.9: an agent cannot decide their own request through another channel.

Mette signs in to the console as `mette`, decides in Slack as UMETTE, and is herself a
customer with anna@example.dk. Linked (`privacybot agents link`), each of these is her:
the workflow refuses her decision on a request made through any of them or about the
account carrying her email, whether she decides in the console/CLI (`mette`) or in Slack
(`slack:UMETTE`), and an approval under one of them counts as hers for four-eyes.
"""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.web.agent import accounts
from storage import demo_seed
from storage.db import Database
from storage.types import utcnow
from tests.conftest import TEST_SECRET
from tests.console.conftest import add_agent, cheap_hashing  # noqa: F401
from tests.workflow.conftest import SECRET, account_id, open_request
from workflow import agent_identities, decisions
from workflow.approvals import Agent, ApprovalPolicy

METTE_CONSOLE = Agent.from_identity(SECRET, "mette")
METTE_SLACK = Agent.from_identity(SECRET, "slack:UMETTE")
IDA = Agent.from_identity(SECRET, "ida")


async def _link(db: Database, kind: str, value: str) -> None:
    async with db.transaction() as session:
        agent = await accounts.existing(session, "mette")
        assert await agent_identities.link(session, SECRET, agent.id, kind, value, utcnow())


async def _approve(db: Database, reference: str, agent: Agent, **kw: object) -> str:
    try:
        async with db.transaction() as session:
            done = await decisions.approve(session, reference, agent, **kw)  # type: ignore[arg-type]
            return done.status
    except decisions.WorkflowError as exc:
        return type(exc).__name__


async def test_a_request_made_in_slack_is_refused_to_her_in_the_console(seeded: Database) -> None:
    await add_agent(seeded, "mette")
    now = utcnow()
    ben = await account_id(seeded)
    request = await open_request(seeded, "access", now=now, account=ben, requester="slack:UMETTE")
    assert await _approve(seeded, request.reference, METTE_CONSOLE) == "approved", (
        "before the link, the console cannot know"
    )
    second = await open_request(seeded, "access", now=now, account=ben, requester="slack:UMETTE")
    await _link(seeded, "slack", "umette")
    assert await _approve(seeded, second.reference, METTE_CONSOLE) == "SelfApprovalRefused"
    assert await _approve(seeded, second.reference, METTE_SLACK) == "SelfApprovalRefused"
    assert await _approve(seeded, second.reference, IDA) == "approved"


async def test_a_request_about_her_own_account_is_refused_in_every_channel(
    seeded: Database,
) -> None:
    await add_agent(seeded, "mette")
    await _link(seeded, "slack", "UMETTE")
    await _link(seeded, "email", "Anna@Example.dk")
    anna = await account_id(seeded, "anna@example.dk")
    request = await open_request(seeded, "access", now=utcnow(), account=anna)  # from the web chat
    assert await _approve(seeded, request.reference, METTE_CONSOLE) == "SelfApprovalRefused"
    assert await _approve(seeded, request.reference, METTE_SLACK) == "SelfApprovalRefused"
    async with seeded.transaction() as session:
        with pytest.raises(decisions.SelfApprovalRefused):
            await decisions.reject(session, request.reference, METTE_SLACK, "no")
    assert await _approve(seeded, request.reference, IDA) == "approved"


async def test_two_approvals_from_one_agent_in_two_channels_are_one(seeded: Database) -> None:
    await add_agent(seeded, "mette")
    await _link(seeded, "slack", "UMETTE")
    ben = await account_id(seeded)
    policy = ApprovalPolicy(erasure_approvers=2)
    request = await open_request(seeded, "erasure", now=utcnow(), account=ben, policy=policy)
    assert await _approve(seeded, request.reference, METTE_CONSOLE, policy=policy) == (
        "awaiting_approval"
    )
    assert await _approve(seeded, request.reference, METTE_SLACK, policy=policy) == (
        "AlreadyDecided"
    )
    assert await _approve(seeded, request.reference, IDA, policy=policy) == "approved"


def test_links_are_made_with_the_cli_and_the_cli_approval_is_refused(
    database_url: str,
    cheap_hashing: None,  # noqa: F811
) -> None:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}

    async def prepare() -> str:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                await demo_seed.seed(session)
            anna = await account_id(db, "anna@example.dk")
            request = await open_request(db, "access", now=utcnow(), account=anna)
            return request.reference
        finally:
            await db.dispose()

    reference = asyncio.run(prepare())
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["agents", "add", "mette", "--password-stdin", "--slack-user", "UMETTE"],
        input="a long enough password\n",
        env=env,
    )
    assert added.exit_code == 0, added.output
    linked = runner.invoke(cli, ["agents", "link", "mette", "--phone", "20 00 00 01"], env=env)
    assert linked.exit_code == 0 and "1 identities linked" in linked.output, linked.output
    bad = runner.invoke(cli, ["agents", "link", "mette", "--email", "not-an-email"], env=env)
    assert bad.exit_code == 2
    listed = runner.invoke(cli, ["agents", "list"], env=env)
    assert "slack UMETTE" in listed.output and "+45******01" in listed.output
    assert "20000001" not in listed.output
    refused = runner.invoke(cli, ["requests", "approve", reference, "--agent", "mette"], env=env)
    assert refused.exit_code == 1 and "concerns your own account" in refused.output
    approved = runner.invoke(cli, ["requests", "approve", reference, "--agent", "ida"], env=env)
    assert approved.exit_code == 0, approved.output
