"""Portability: only data the customer provided or generated, machine-readable."""

from __future__ import annotations

import json
from pathlib import Path

from storage.db import Database
from tests.executors.conftest import MakeCtx, zip_members
from workflow.executors import portability


async def test_only_provided_data_is_exported(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    result = await portability.run(make_ctx(anna, "portability"))
    assert result.effects["files"] == ["PR-TEST01-portability.zip"]
    members = zip_members(data_dir / "exports" / "PR-TEST01-portability.zip")
    stems = {name.rsplit(".", 1)[0] for name in members if name.endswith((".json", ".csv"))}
    assert stems == {"account", "people", "sms_messages", "consents", "api_keys", "manifest"}
    assert "access_log.json" not in members and "invoices.json" not in members
    assert b"Aarhus, DK" not in b"".join(members.values())  # the derived coarse location
    assert len(json.loads(members["sms_messages.json"])) == 2000
    assert result.effects["rows"] == {
        "account": 1,
        "people": 1,
        "sms_messages": 2000,
        "consents": 3,
        "api_keys": 2,
    }
    assert "Datatilsynet" not in members["README.txt"].decode()
    assert result.notice["download_url"].startswith("http://127.0.0.1:8080/downloads/")


async def test_access_and_portability_files_do_not_collide(
    anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    from workflow.executors import access

    await access.run(make_ctx(anna, "access"))
    await portability.run(make_ctx(anna, "portability"))
    assert sorted(p.name for p in (data_dir / "exports").iterdir()) == [
        "PR-TEST01-access.zip",
        "PR-TEST01-portability.zip",
    ]
