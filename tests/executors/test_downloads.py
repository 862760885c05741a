"""GET /downloads/{token} over real HTTP: the file for a valid link, 404 and 410 otherwise."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.runtime import Runtime
from bot.web.downloads import routes
from bot.web.errors import error_middleware
from bot.web.keys import RUNTIME
from storage.models import Person
from storage.privacy_models import PrivacyRequest
from tests.clock import FakeClock
from tests.executors.conftest import ANNA, context
from workflow.executors import access, erasure
from workflow.exports import LIFETIME, sign_download


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application(middlewares=[error_middleware])
    app[RUNTIME] = runtime
    app.add_routes(routes)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def _request(
    runtime: Runtime, account_id: int, reference: str, kind: str, status: str = "in_progress"
) -> None:
    """The request row a download belongs to (the download checks it still stands)."""
    now = runtime.services.clock()
    async with runtime.db.transaction() as session:
        session.add(
            PrivacyRequest(
                reference=reference,
                kind=kind,
                status=status,
                account_id=account_id,
                channel="webchat",
                language="da",
                requester_ref="r" * 64,
                details={},
                received_at=now,
                due_at=now + timedelta(days=30),
            )
        )


async def _anna(runtime: Runtime) -> int:
    async with runtime.db.sessions() as session:
        account_id = await session.scalar(select(Person.account_id).where(Person.email == ANNA))
    assert account_id is not None
    return int(account_id)


async def _export(runtime: Runtime, clock: FakeClock) -> dict[str, Any]:
    account_id = await _anna(runtime)
    await _request(runtime, account_id, "PR-TEST01", "access")
    ctx = context(
        runtime.db,
        account_id,
        kind="access",
        data_dir=runtime.settings.data_dir,
        clock=clock,
        secret=runtime.services.secret,
        public_url=runtime.services.public_url,
    )
    return (await access.run(ctx)).notice


def _path(url: str) -> str:
    return "/downloads/" + url.rsplit("/downloads/", 1)[1]


async def test_a_valid_link_streams_the_zip(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    notice = await _export(runtime, clock)
    response = await http.get(_path(notice["download_url"]))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="PR-TEST01-access.zip"'
    body = await response.read()
    assert "summary.txt" in zipfile.ZipFile(BytesIO(body)).namelist()


async def test_a_tampered_link_is_not_found(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    notice = await _export(runtime, clock)
    path = _path(notice["download_url"])
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    for bad in (tampered, "/downloads/nonsense", "/downloads/a.b"):
        response = await http.get(bad)
        assert response.status == 404
        assert "error" in await response.json()


async def test_an_expired_link_is_gone(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    notice = await _export(runtime, clock)
    clock.advance(days=LIFETIME.days, seconds=1)
    response = await http.get(_path(notice["download_url"]))
    assert response.status == 410
    assert "expired" in (await response.json())["error"]


async def test_a_genuine_link_to_a_missing_file_is_not_found(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    token = sign_download(
        runtime.services.secret, "PR-NONE00", "PR-NONE00-access.zip", clock() + LIFETIME
    )
    response = await http.get(f"/downloads/{token}")
    assert response.status == 404


async def test_the_erasure_receipt_is_served_as_text(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    account_id = await _anna(runtime)
    await _request(runtime, account_id, "PR-TEST01", "erasure")
    ctx = context(
        runtime.db,
        account_id,
        kind="erasure",
        data_dir=runtime.settings.data_dir,
        clock=clock,
        secret=runtime.services.secret,
        public_url=runtime.services.public_url,
    )
    notice = (await erasure.run(ctx)).notice
    response = await http.get(_path(notice["receipt_url"]))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "Datatilsynet" in await response.text()


async def test_an_erasure_deletes_earlier_exports_and_their_links_stop_working(
    runtime: Runtime, clock: FakeClock, http: TestClient[Any, Any]
) -> None:
    """Issue 13 item 2: the access link delivered before the erasure no longer answers."""
    notice = await _export(runtime, clock)
    link = _path(notice["download_url"])
    assert (await http.get(link)).status == 200
    account_id = await _anna(runtime)
    await _request(runtime, account_id, "PR-ERASE1", "erasure", status="approved")
    assert (await http.get(link)).status == 200, "approving alone changes nothing yet"
    async with runtime.db.transaction() as session:  # the worker has started it
        request = await session.scalar(
            select(PrivacyRequest).where(PrivacyRequest.reference == "PR-ERASE1")
        )
        assert request is not None
        request.status = "in_progress"
    assert (await http.get(link)).status == 404, "no export once the erasure is under way"
    ctx = context(
        runtime.db,
        account_id,
        kind="erasure",
        data_dir=runtime.settings.data_dir,
        clock=clock,
        secret=runtime.services.secret,
        public_url=runtime.services.public_url,
        reference="PR-ERASE1",
        language="en",
    )
    result = await erasure.run(ctx)
    exports = runtime.settings.data_dir / "exports"
    assert sorted(p.name for p in exports.iterdir()) == ["PR-ERASE1-erasure-receipt.txt"]
    assert result.effects["exports_deleted"] == 1
    assert (await http.get(link)).status == 404
    receipt = await http.get(_path(result.notice["receipt_url"]))
    assert receipt.status == 200
    assert "download link no longer works" in await receipt.text()
