"""On the built-in store: the access export and the erasure cover exactly the same rows,
transcripts included (a chat linked to the account, one that was sent its code, and one
that only names its phone number)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from storage.db import Database
from storage.models import VerificationCode
from tests.account_store.coverage import changed, erasure_scope, exported_keys, snapshot
from tests.executors.conftest import ANNA_PHONE, START, MakeCtx, add_chat
from workflow.executors import access, erasure


async def test_the_export_and_the_erasure_cover_the_same_rows(
    seeded: Database,
    anna: int,
    ben: int,
    make_ctx: MakeCtx,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await add_chat(seeded, anna, ["Hej", "Hej Anna"], conversation_id="conv-linked")
    await add_chat(seeded, None, [f"ring på {ANNA_PHONE}"], conversation_id="conv-named")
    await add_chat(seeded, None, ["min kode?"], conversation_id="conv-coded")
    await add_chat(seeded, ben, ["Ben here"], conversation_id="conv-ben")
    async with seeded.transaction() as session:
        session.add(
            VerificationCode(
                conversation_id="conv-coded",
                account_id=anna,
                channel="email",
                code_hash="x" * 64,
                expires_at=START,
                created_at=START,
            )
        )
    exported = await access.run(make_ctx(anna, "access", reference="PR-ACC001"))
    keys = exported_keys(data_dir / "exports" / exported.effects["files"][0])
    assert keys["conversations"] == {("conv-linked",), ("conv-named",), ("conv-coded",)}
    assert len(keys["transcript_messages"]) == 4

    before = await snapshot(seeded)
    scope: dict[str, set[tuple[str, ...]]] = {}
    real = erasure._run_batches

    async def planned_then_run(work: object, plan: erasure.Plan) -> None:
        scope.update(await erasure_scope(seeded, anna, asdict(plan)))
        await real(work, plan)  # type: ignore[arg-type]

    monkeypatch.setattr(erasure, "_run_batches", planned_then_run)
    await erasure.run(make_ctx(anna, "erasure"))
    touched = changed(before, await snapshot(seeded))
    for name, rows in touched.items():
        assert rows <= keys.get(name, set()), f"{name}: erased rows the export did not show"
    for name, rows in keys.items():
        assert rows == scope[name], f"{name}: the export and the erasure disagree"
    assert touched["sms_messages"] == keys["sms_messages"] and len(keys["sms_messages"]) == 2000
