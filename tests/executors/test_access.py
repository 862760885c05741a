"""Access export: every category as JSON and CSV, counts as in the database, the Art. 15
summary in the customer's language, and a crash never leaves a half file as done."""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import resource
import secrets
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.db import Database
from storage.models import (
    AccessLogEntry,
    ApiKey,
    Consent,
    Invoice,
    InvoiceLine,
    Payment,
    SmsMessage,
    TranscriptMessage,
)
from tests.executors.conftest import ANNA, ANNA_PHONE, MakeCtx, add_chat, count, zip_members
from workflow.executors import PermanentFailure, access, export_zip
from workflow.exports import verify_download

from .conftest import SECRET, START


def _sections(
    members: dict[str, bytes], name: str
) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    as_json = json.loads(members[f"{name}.json"])
    as_csv = list(csv.DictReader(io.StringIO(members[f"{name}.csv"].decode("utf-8"))))
    return as_json, as_csv


async def test_every_category_is_exported_as_json_and_csv_with_the_database_counts(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    await add_chat(seeded, anna, [f"Hi, I am {ANNA}", "Hello!", "Please send my data"])
    result = await access.run(make_ctx(anna, "access"))

    path = data_dir / "exports" / result.effects["files"][0]
    members = zip_members(path)
    invoices = select(Invoice.id).where(Invoice.account_id == anna)
    expected = {
        "account": 1,
        "people": 1,
        "api_keys": await count(seeded, select(ApiKey.id).where(ApiKey.account_id == anna)),
        "access_log": await count(
            seeded, select(AccessLogEntry.id).where(AccessLogEntry.account_id == anna)
        ),
        "sms_messages": await count(
            seeded, select(SmsMessage.id).where(SmsMessage.account_id == anna)
        ),
        "invoices": await count(seeded, invoices),
        "invoice_lines": await count(
            seeded, select(InvoiceLine.id).where(InvoiceLine.invoice_id.in_(invoices))
        ),
        "payments": await count(seeded, select(Payment.id).where(Payment.invoice_id.in_(invoices))),
        "consents": await count(seeded, select(Consent.id).where(Consent.account_id == anna)),
        "conversations": 1,
        "chat_transcripts": 3,
        "verification_codes": 0,
        "messages_to_you": 0,
        "recipient_requests": 0,  # SMS recipients' requests passed on (test_referral_data)
        "recipient_request_history": 0,
        "stopped_numbers": 0,
    }
    assert expected["sms_messages"] == 2000 and expected["invoices"] == 12
    assert result.effects["rows"] == expected
    for name, rows in expected.items():
        as_json, as_csv = _sections(members, name)
        assert len(as_json) == len(as_csv) == rows, name
        if rows:
            assert list(as_json[0]) == list(as_csv[0]), name
    assert result.effects["bytes"] == path.stat().st_size
    assert {"README.txt", "summary.txt", "manifest.json"} <= set(members)

    people, _csv = _sections(members, "people")
    assert people[0]["email"] == ANNA and people[0]["phone"] == ANNA_PHONE
    sms, sms_csv = _sections(members, "sms_messages")
    assert sms[0]["content"] == sms_csv[0]["content"]
    invoices_json, _csv = _sections(members, "invoices")
    assert all(isinstance(row["total"], str) for row in invoices_json)  # exact amounts


async def test_api_keys_are_exported_without_their_hashes(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    result = await access.run(make_ctx(anna, "access"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    keys, keys_csv = _sections(members, "api_keys")
    assert set(keys[0]) == {
        *("id", "account_id", "label", "prefix", "created_at", "last_used_at", "revoked_at")
    }
    assert "key_hash" not in keys_csv[0]
    async with seeded.sessions() as session:
        hashes = list(
            await session.scalars(select(ApiKey.key_hash).where(ApiKey.account_id == anna))
        )
    blob = b"".join(members.values())
    assert all(h.encode() not in blob for h in hashes)


async def test_the_summary_is_in_danish_with_the_article_15_facts(
    anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    result = await access.run(make_ctx(anna, "access", language="da"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    summary = members["summary.txt"].decode("utf-8")
    for phrase in (
        "PR-TEST01",
        "Datatilsynet",
        "www.datatilsynet.dk",
        "15. marts 2027",
        "Formål",
        "Modtagere",
        "inkassobureau",
        "bogføringsloven",
        "30 dage",
        "indsigt",
        "berigtigelse",
        "sletning",
        "begrænsning",
        "dataportabilitet",
        "indsigelse",
        "profilering",
        "automatisk",
        "Fakturaer og købshistorik",
        "Du har i øjeblikket givet samtykke",
    ):
        assert phrase in summary, phrase
    assert "Google" in summary  # tracking recipients; Anna does not log in with Google
    assert "fra Google, da du logger ind" not in summary
    assert "Your rights" not in summary
    readme = members["README.txt"].decode("utf-8")
    assert "sms_messages.json / sms_messages.csv: 2000" in readme


async def test_the_summary_is_in_english_for_an_english_customer(
    ben: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    result = await access.run(make_ctx(ben, "access", language="en", reference="PR-BEN001"))
    summary = zip_members(data_dir / "exports" / result.effects["files"][0])["summary.txt"].decode()
    for phrase in (
        "Datatilsynet",
        "www.datatilsynet.dk",
        "15 March 2027",
        "purposes",
        "recipients",
        "debt collection agency",
        "Bookkeeping Act",
        "Up to 30 days, then anonymised.",
        "Rectification",
        "Erasure",
        "Restriction",
        "Portability",
        "Objection",
        "solely on automated processing",
        "profiling",
        "You have currently consented to tracking or profiling.",
    ):
        assert phrase in summary, phrase
    assert "Formål" not in summary


async def test_the_notice_carries_a_signed_link_to_the_file(anna: int, make_ctx: MakeCtx) -> None:
    result = await access.run(make_ctx(anna, "access"))
    url = result.notice["download_url"]
    assert url.startswith("http://127.0.0.1:8080/downloads/")
    reference, filename = verify_download(SECRET, url.rsplit("/", 1)[1], START)
    assert (reference, filename) == ("PR-TEST01", "PR-TEST01-access.zip")
    assert result.notice["expires_at"] == "2027-03-22T10:00:00+00:00"
    assert ANNA not in json.dumps(result.effects)


async def test_a_second_run_reuses_the_complete_file(
    anna: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    first = await access.run(make_ctx(anna, "access"))
    path = data_dir / "exports" / first.effects["files"][0]
    stamp = path.stat().st_mtime_ns
    second = await access.run(make_ctx(anna, "access"))
    assert path.stat().st_mtime_ns == stamp
    assert second.effects == first.effects


@contextlib.contextmanager
def _files_limited_to(size: int) -> Iterator[None]:
    """A real file-system fault: no file of this process may grow past `size` bytes
    (RLIMIT_FSIZE), so the write that crosses it fails with EFBIG."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def _section_being_written(error: BaseException) -> tuple[str, int]:
    """The section `_write_section` was writing when `error` was raised, and its rows
    written so far (read from the frames the error passed through). Closing the archive
    after a failed write can fail on the same file again; then the first error is the
    context of the one raised."""
    found: list[tuple[str, int]] = []
    cause: BaseException | None = error
    while cause is not None and not found:
        trace = cause.__traceback__
        while trace is not None:
            frame = trace.tb_frame
            if frame.f_code is export_zip._write_section.__code__:
                found.append((frame.f_locals["section"].name, frame.f_locals["rows"]))
            trace = trace.tb_next
        cause = cause.__context__
    assert len(found) == 1, found
    return found[0]


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file-size limits")
async def test_a_disk_fault_inside_a_section_leaves_no_file_and_the_rerun_is_complete(
    seeded: Database, anna: int, make_ctx: MakeCtx, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Random texts, which compress poorly, so the archive grows all through the section (a
    # compressor holds back a few hundred KB of repetitive text before its first block).
    async with seeded.transaction() as session:
        ids = (
            await session.scalars(select(SmsMessage.id).where(SmsMessage.account_id == anna))
        ).all()
        for sms_id in ids:
            await session.execute(
                update(SmsMessage)
                .where(SmsMessage.id == sms_id)
                .values(content=secrets.token_hex(80))
            )
    # An uninterrupted export (another reference) shows where the SMS messages lie in
    # the archive, and what a complete export holds.
    whole = await access.run(make_ctx(anna, "access", reference="PR-WHOLE1"))
    whole_path = data_dir / "exports" / whole.effects["files"][0]
    with zipfile.ZipFile(whole_path) as archive:
        sms = archive.getinfo("sms_messages.json")
        middle = sms.header_offset + sms.compress_size // 2
    expected = zip_members(whole_path)
    whole_path.unlink()

    monkeypatch.setattr(export_zip, "PARTITION", 100)  # the 2,000 messages in 20 writes
    with _files_limited_to(middle), pytest.raises(OSError) as crash:
        await access.run(make_ctx(anna, "access"))
    assert crash.value.errno == errno.EFBIG
    name, written = _section_being_written(crash.value)
    assert name == "sms_messages" and 0 < written < 2000, (name, written)
    exports = data_dir / "exports"
    assert list(exports.iterdir()) == []  # neither a final file nor a temporary one

    (exports / ".PR-TEST01-access.zip.dead.tmp").write_bytes(b"half")  # a killed process
    (exports / "PR-TEST01-access.zip").write_bytes(b"PK not a zip")  # a damaged final file
    result = await access.run(make_ctx(anna, "access"))
    assert sorted(p.name for p in exports.iterdir()) == ["PR-TEST01-access.zip"]
    assert result.effects["rows"] == whole.effects["rows"]
    assert result.effects["rows"]["sms_messages"] == 2000
    members = zip_members(exports / "PR-TEST01-access.zip")
    assert members.keys() == expected.keys()
    # byte for byte the uninterrupted export, but for the reference the documents name
    renamed = {n: v.replace(b"PR-WHOLE1", b"PR-TEST01") for n, v in expected.items()}
    assert [n for n in members if members[n] != renamed[n]] == []
    sms_json, sms_csv = _sections(members, "sms_messages")
    assert len(sms_json) == len(sms_csv) == 2000


async def test_transcripts_of_other_accounts_are_not_exported(
    seeded: Database, anna: int, ben: int, make_ctx: MakeCtx, data_dir: Path
) -> None:
    await add_chat(seeded, ben, ["Ben here"], conversation_id="conv-ben")
    await add_chat(seeded, anna, ["Anna here"], conversation_id="conv-anna")
    result = await access.run(make_ctx(anna, "access"))
    members = zip_members(data_dir / "exports" / result.effects["files"][0])
    chats, _csv = _sections(members, "chat_transcripts")
    assert [c["text"] for c in chats] == ["Anna here"]
    assert await count(seeded, select(TranscriptMessage.id)) == 2


async def test_an_unknown_account_fails_permanently(make_ctx: MakeCtx) -> None:
    with pytest.raises(PermanentFailure):
        await access.run(make_ctx(999_999, "access"))
