"""The agent CLI through click's CliRunner against a file SQLite database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from bot.cli import cli
from storage import demo_seed
from storage.db import Database
from storage.types import utcnow
from tests.conftest import TEST_SECRET, Backends
from tests.workflow.conftest import (
    CUSTOMER_IDENTITY,
    account_id,
    bot_messages,
    new_conversation,
    open_request,
)


@pytest.fixture
def url(backends: Backends) -> Iterator[str]:
    database_url = backends.sqlite(True)

    async def seed() -> None:
        db = Database(database_url)
        try:
            async with db.transaction() as session:
                await demo_seed.seed(session)
        finally:
            await db.dispose()

    asyncio.run(seed())
    yield database_url


def invoke(url: str, *args: str, **env: str) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli,
        list(args),
        env={"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, **env},
        catch_exceptions=False,
    )


def on_db(url: str, work: Any) -> Any:
    async def go() -> Any:
        db = Database(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def opened(url: str, kind: str, **kwargs: Any) -> str:
    async def work(db: Database) -> str:
        request = await open_request(db, kind, now=utcnow(), account=await account_id(db), **kwargs)
        return request.reference

    return str(on_db(url, work))


def test_list_show_approve_and_worker_once(url: str) -> None:
    conversation_id = on_db(url, new_conversation)
    reference = opened(url, "restriction", conversation_id=conversation_id)
    listed = invoke(url, "requests", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["id"] == reference and row["kind"] == "restriction"
    assert row["status"] == "awaiting_approval" and row["overdue"] is False
    assert row["days_left"] >= 27 and row["due_at"]
    table = invoke(url, "requests", "list")
    assert reference in table.output and "DAYS" in table.output

    approved = invoke(url, "requests", "approve", reference, "--agent", "alice")
    assert approved.exit_code == 0, approved.output
    assert f"{reference}: approved" in approved.output
    again = invoke(url, "requests", "approve", reference, "--agent", "bob")
    assert again.exit_code == 1 and "already approved" in again.output

    ran = invoke(url, "worker", "--once")
    assert ran.exit_code == 0, ran.output
    assert "done" in ran.output
    shown = invoke(url, "requests", "show", reference, "--json")
    data = json.loads(shown.output)
    assert data["status"] == "completed" and data["company"] == "Ben's Bikes Ltd"
    assert [h["to"] for h in data["history"]][-3:] == ["approved", "in_progress", "completed"]
    assert data["approvals"] == [
        {"approver": "alice", "decision": "approve", "at": data["approvals"][0]["at"]}
    ]
    assert data["actions"][0]["status"] == "done"
    text_view = invoke(url, "requests", "show", reference)
    assert "history:" in text_view.output and "alice" in text_view.output
    messages = on_db(url, lambda db: bot_messages(db, conversation_id))
    assert sum("now restricted" in m for m in messages) == 1
    assert invoke(url, "requests", "list", "--json").output.strip() == "[]", "none open"
    assert len(json.loads(invoke(url, "requests", "list", "--status", "all", "--json").output))


def test_show_hides_contact_values(url: str) -> None:
    reference = opened(url, "rectification", details={"field": "phone", "value": "+4511223344"})
    shown = invoke(url, "requests", "show", reference, "--json")
    assert "+4511223344" not in shown.output
    assert json.loads(shown.output)["details"] == {"field": "phone", "value": "<hidden>"}
    assert "+4511223344" not in invoke(url, "requests", "show", reference).output


def test_reject_and_extend_need_reasons_and_refuse_clearly(url: str) -> None:
    reference = opened(url, "access")
    missing = invoke(url, "requests", "reject", reference, "--agent", "alice")
    assert missing.exit_code == 2, "usage error: --reason is required"
    blank = invoke(url, "requests", "reject", reference, "--agent", "alice", "--reason", " ")
    assert blank.exit_code == 1 and "needs a reason" in blank.output
    bad_months = invoke(
        url, "requests", "extend", reference, "--agent", "a", "--reason", "x", "--months", "3"
    )
    assert bad_months.exit_code == 2
    extended = invoke(
        url,
        "requests",
        "extend",
        reference,
        "--agent",
        "alice",
        "--reason",
        "Archives",
        "--months",
        "2",
    )
    assert extended.exit_code == 0, extended.output
    more = invoke(url, "requests", "extend", reference, "--agent", "bob", "--reason", "more")
    assert more.exit_code == 1 and "at most 2" in more.output
    self_approval = invoke(url, "requests", "approve", reference, "--agent", CUSTOMER_IDENTITY)
    assert self_approval.exit_code == 1 and "requested by you" in self_approval.output
    rejected = invoke(
        url, "requests", "reject", reference, "--agent", "alice", "--reason", "Duplicate"
    )
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    unknown = invoke(url, "requests", "approve", "PR-ZZZZZZ", "--agent", "alice")
    assert unknown.exit_code == 1 and "no request" in unknown.output
    assert invoke(url, "requests", "show", "PR-ZZZZZZ").exit_code == 1
    assert invoke(url, "requests", "list", "--status", "bogus").exit_code == 2


def test_overdue_marker(url: str) -> None:
    async def work(db: Database) -> str:
        request = await open_request(
            db, "access", now=utcnow() - timedelta(days=40), account=await account_id(db)
        )
        return request.reference

    reference = on_db(url, work)
    [row] = json.loads(invoke(url, "requests", "list", "--json").output)
    assert row["id"] == reference and row["overdue"] is True and row["days_left"] < 0
    assert "OVERDUE" in invoke(url, "requests", "list").output


def test_audit_verify_cli(url: str) -> None:
    opened(url, "access")
    ok = invoke(url, "audit", "verify", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"] is True
    assert "intact" in invoke(url, "audit", "verify").output

    async def tamper(db: Database) -> None:
        async with db.transaction() as session:
            await session.execute(text("UPDATE audit_log SET event = 'x' WHERE id = 2"))

    on_db(url, tamper)
    broken = invoke(url, "audit", "verify", "--json")
    assert broken.exit_code == 1
    assert json.loads(broken.output)["first_bad_id"] == 2
    assert "BROKEN at entry 2" in invoke(url, "audit", "verify").output


def test_human_review_answer_cli(url: str) -> None:
    conversation_id = on_db(url, new_conversation)
    reference = opened(
        url,
        "human_review",
        conversation_id=conversation_id,
        details={"decision": "Automatic credit limit"},
    )
    assert invoke(url, "requests", "approve", reference, "--agent", "alice").exit_code == 0
    assert invoke(url, "worker", "--once", "--concurrency", "1").exit_code == 0
    answered = invoke(
        url, "requests", "answer", reference, "--agent", "bob", "--text", "Limit raised."
    )
    assert answered.exit_code == 0 and "completed" in answered.output
    assert invoke(url, "worker", "--once").exit_code == 0
    messages = on_db(url, lambda db: bot_messages(db, conversation_id))
    assert any("Limit raised." in m for m in messages)
