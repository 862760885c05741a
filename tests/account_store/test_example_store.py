"""The rights against another company's account store, described only by its data map:
the legacy-shaped example on SQLite, PostgreSQL and MariaDB, with no code of its own."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import account_store
from tests.account_store.conftest import Stores
from tests.account_store.coverage import changed, erasure_scope, exported_keys, snapshot
from tests.clock import FakeClock
from tests.executors.conftest import add_chat, context, zip_members
from workflow import identity, retention
from workflow.executors import PermanentFailure, access, erasure, rectification, restriction
from workflow.executors.erasure import finish, steps

NOW = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
JENS, JENS_BOOKS, JENS_PHONE = "jens@hansen-cykler.dk", "bogholderi@hansen-cykler.dk", "+4531000001"


def ctx(stores: Stores, tmp_path: Path, kind: str, **kwargs: object) -> erasure.ActionContext:
    return context(
        stores.bot, 1, kind=kind, data_dir=tmp_path / "data", clock=FakeClock(NOW), **kwargs
    )  # type: ignore[arg-type]


async def rows(stores: Stores, sql: str) -> list[tuple[object, ...]]:
    async with stores.store.sessions() as session:
        return [tuple(r) for r in await session.execute(text(sql))]


async def _chats(stores: Stores) -> None:
    await add_chat(stores.bot, 1, ["Hej, det er Jens", "Hej!"], conversation_id="conv-jens")
    await add_chat(stores.bot, None, [f"skriv til {JENS_BOOKS}"], conversation_id="conv-anon")
    await add_chat(stores.bot, 2, ["Olivia here"], conversation_id="conv-olivia")


async def test_authentication_finds_the_customer_by_any_of_their_contacts(
    example: Stores,
) -> None:
    async with example.bot.sessions() as session:
        for value, kind in ((JENS_BOOKS.upper(), "email"), (JENS_PHONE, "phone")):
            found = await identity.find_person(session, identity.Contact(kind, value))
            assert found is not None and found.account_id == 1
        assert await identity.find_person(session, identity.Contact("email", "x@y.dk")) is None


async def test_access_exports_every_table_of_the_map(example: Stores, tmp_path: Path) -> None:
    await _chats(example)
    result = await access.run(ctx(example, tmp_path, "access", language="en"))
    assert result.effects["rows"] == {
        "account": 1,
        "customer_contact": 3,
        "msg_log": 5,
        "web_login": 2,
        "orders": 2,
        "order_line": 3,
        "conversations": 2,  # linked, and the one naming her address
        "chat_transcripts": 3,
        "verification_codes": 0,
        "messages_to_you": 0,
        "recipient_requests": 0,  # the bot's own tables (bot.yaml) whichever store it serves
        "recipient_request_history": 0,
        "stopped_numbers": 0,
    }
    members = zip_members(tmp_path / "data" / "exports" / result.effects["files"][0])
    contacts = json.loads(members["customer_contact.json"])
    assert {c["value"] for c in contacts} == {JENS, JENS_BOOKS, JENS_PHONE}
    lines = json.loads(members["order_line.json"])
    assert [(line["order_no"], line["line_no"]) for line in lines] == [
        (5001, 1),
        (5001, 2),
        (5002, 1),
    ]
    summary = members["summary.txt"].decode()
    assert "Hansen Example Gateway A/S" in summary and "Up to 30 days" in summary
    assert "debt collection agency" in summary and "block an account" in summary


async def test_erasure_keeps_the_orders_under_the_hold_and_erases_the_rest(
    example: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _chats(example)
    other_before = await rows(example, "SELECT * FROM msg_log WHERE cust_no = 2 ORDER BY log_id")
    exported = await access.run(ctx(example, tmp_path, "access", reference="PR-ACC001"))
    before = await snapshot(example.bot)
    scope: dict[str, set[tuple[str, ...]]] = {}
    real = erasure._run_batches

    async def planned_then_run(work: object, plan: erasure.Plan) -> None:
        if not scope:  # the first run's plan
            scope.update(await erasure_scope(example.bot, 1, asdict(plan)))
        await real(work, plan)  # type: ignore[arg-type]

    monkeypatch.setattr(erasure, "_run_batches", planned_then_run)
    result = await erasure.run(ctx(example, tmp_path, "erasure", language="en"))
    after = await snapshot(example.bot)

    assert await rows(example, "SELECT cust_no FROM customer_contact") == [(20,)] or await rows(
        example, "SELECT contact_id FROM customer_contact"
    ) == [(20,)]
    ((state, firm, closed),) = await rows(
        example, "SELECT state, firm_name, closed_on FROM customer WHERE cust_no = 1"
    )
    assert (state, firm) == ("X", None) and closed is not None
    orders = await rows(
        example,
        "SELECT order_no, bill_to_name, bill_mail, keep_until FROM orders "
        "WHERE cust_no = 1 ORDER BY order_no",
    )
    assert [(o[0], o[1], o[2]) for o in orders] == [
        (5001, "Hansen Cykler ApS", None),
        (5002, "Hansen Cykler ApS", None),
    ]
    assert [str(o[3])[:10] for o in orders] == ["2029-12-31", "2031-12-31"]
    assert await rows(example, "SELECT count(*) FROM order_line WHERE order_no = 5001") == [(2,)]
    messages = await rows(
        example, "SELECT body, to_number, sender_id FROM msg_log WHERE cust_no = 1"
    )
    assert {m[0] for m in messages} == {"[erased]"} and all(m[1].endswith("XXXX") for m in messages)
    assert await rows(example, "SELECT count(*) FROM web_login WHERE cust_no = 1") == [(0,)]
    assert (
        await rows(example, "SELECT * FROM msg_log WHERE cust_no = 2 ORDER BY log_id")
        == other_before
    )
    assert result.effects["kept"] == {"orders": 2, "order_line": 3}
    assert result.effects["exports_deleted"] == 0  # the access request is not on record here
    receipt = (tmp_path / "data" / "exports" / "PR-TEST01-erasure-receipt.txt").read_text()
    assert "Danish Bookkeeping Act" in receipt and "31 December 2031" in receipt
    # Art. 19: the recipient of the erased categories is told once, and named in the receipt
    assert result.effects["recipients_told"] == ["Debt collection agency"]
    assert "Debt collection agency" in receipt
    again = await erasure.run(ctx(example, tmp_path, "erasure", language="en"))
    assert again.effects == result.effects
    async with example.bot.sessions() as session:
        notices = (
            await session.execute(
                text("SELECT \"to\", text FROM outbox_messages WHERE subject LIKE '%Art. 19%'")
            )
        ).all()
    assert [n[0] for n in notices] == ["privacy@collector.example"]
    assert JENS not in notices[0][1] and "account 1" in notices[0][1]
    assert JENS not in receipt and JENS_PHONE not in receipt

    # the export and the erasure covered exactly the same rows
    keys = exported_keys(tmp_path / "data" / "exports" / exported.effects["files"][0])
    for name, touched in changed(before, after).items():
        assert touched <= keys.get(name, set()), name
        if name in keys:
            assert keys[name] == scope[name], name


async def test_rectification_changes_the_right_contact_row(example: Stores, tmp_path: Path) -> None:
    new = "jens@nyt-domaene.dk"
    result = await rectification.run(
        ctx(example, tmp_path, "rectification", details={"field": "email", "value": new})
    )
    assert result.effects["changed"] and result.effects["person_id"] == 10
    assert await rows(example, "SELECT value FROM customer_contact ORDER BY contact_id") == [
        (new,),
        (JENS_BOOKS,),
        (JENS_PHONE,),
        ("olivia@other.example",),
    ]
    await rectification.run(
        ctx(example, tmp_path, "rectification", details={"field": "company", "value": "Hansen A/S"})
    )
    assert await rows(example, "SELECT firm_name FROM customer WHERE cust_no = 1") == [
        ("Hansen A/S",)
    ]
    with pytest.raises(PermanentFailure):  # the map marks no phone column rectifiable here
        await rectification.run(
            ctx(
                example,
                tmp_path,
                "rectification",
                details={"field": "phone", "value": "+4512345678"},
            )
        )
    await restriction.run(ctx(example, tmp_path, "restriction"))
    assert (await rows(example, "SELECT frozen FROM customer WHERE cust_no = 1"))[0][0] in (1, True)


async def test_retention_follows_the_maps_own_rules(example: Stores) -> None:
    report = await retention.sweep(example.bot, now=NOW)
    assert report.counts["messages_anonymised"] == 4  # before 13 February, both customers
    old = await rows(example, "SELECT body, to_number FROM msg_log WHERE purged_on IS NOT NULL")
    assert {o[0] for o in old} == {"[anonymised]"} and all(o[1].endswith("XXXX") for o in old)
    assert await rows(example, "SELECT count(*) FROM msg_log WHERE purged_on IS NULL") == [(3,)]
    again = await retention.sweep(example.bot, now=NOW)
    assert again.counts.get("messages_anonymised", 0) == 0


async def test_a_crash_between_the_two_databases_is_resumed_to_the_same_end(
    example: Stores, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No transaction spans the store and the bot's database: a crash after a store batch,
    or after the store's last commit but before the worker records it, re-runs cleanly."""
    await _chats(example)
    monkeypatch.setattr(steps, "BATCH", 2)

    def crash_in(step: str, rows: int) -> None:
        if step == "msg_log":
            raise ConnectionError("killed after a store batch")

    monkeypatch.setattr(steps, "after_batch", crash_in)
    with pytest.raises(ConnectionError):
        await erasure.run(ctx(example, tmp_path, "erasure"))
    assert await rows(example, "SELECT count(*) FROM msg_log WHERE body = '[erased]'") == [(2,)]
    monkeypatch.setattr(steps, "after_batch", lambda step, rows: None)

    def crash_after_commit() -> None:
        raise ConnectionError("killed before the worker recorded the result")

    monkeypatch.setattr(finish, "after_finish", crash_after_commit)
    with pytest.raises(ConnectionError):
        await erasure.run(ctx(example, tmp_path, "erasure"))
    assert await rows(example, "SELECT count(*) FROM customer_contact WHERE cust_no = 1") == [(0,)]
    monkeypatch.setattr(finish, "after_finish", lambda: None)
    done = await erasure.run(ctx(example, tmp_path, "erasure"))
    assert done.effects["erased"]["customer_contact"] == 3
    assert done.effects["erased"]["msg_log"] == 5
    assert await rows(
        example, "SELECT count(*) FROM msg_log WHERE cust_no = 1 AND body <> '[erased]'"
    ) == [(0,)]
    async with example.store.sessions() as session:
        assert account_store.of(example.bot) is example.store
        del session
    assert date(2031, 12, 31).isoformat() == done.effects["legal_hold_until"]


async def test_outcome_notices_reach_the_stores_main_contacts(example: Stores) -> None:
    """Email and SMS notices find their address in any store the map describes."""
    async with example.bot.sessions() as session:
        assert await account_store.contact_of(session, 1, "email") == JENS
        assert await account_store.contact_of(session, 1, "phone") == JENS_PHONE
        assert await account_store.contact_of(session, 2, "phone") is None
        assert await account_store.contact_of(session, 999, "email") is None


async def test_the_legal_hold_ends_by_the_maps_own_rule(example: Stores) -> None:
    async with example.store.transaction() as session:
        await session.execute(
            text("UPDATE orders SET keep_until = :d WHERE order_no = 5001"), {"d": date(2027, 1, 1)}
        )
        await session.execute(
            text("UPDATE orders SET keep_until = :d WHERE order_no = 5002"),
            {"d": date(2031, 12, 31)},
        )
    report = await retention.sweep(example.bot, now=NOW)
    assert report.counts["orders_hold_ended"] == 1
    orders = await rows(
        example,
        "SELECT order_no, bill_to_name, bill_to_street, vat_id FROM orders ORDER BY order_no",
    )
    assert orders[0][0] == 5001 and orders[0][1:] == (None, None, None)
    assert all(o[1] is not None for o in orders[1:])
