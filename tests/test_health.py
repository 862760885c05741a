"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.web.app import create_app
from storage import migrate
from tests.conftest import make_settings


async def _get(runtime: Runtime, path: str) -> tuple[int, dict[str, Any]]:
    app = create_app(runtime)
    app.on_cleanup.clear()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get(path)
        return response.status, await response.json()


async def test_readyz_false_before_migrations_true_after(
    empty_database_url: str, tmp_path: Path
) -> None:
    runtime = Runtime.build(make_settings(empty_database_url, tmp_path))
    try:
        assert await _get(runtime, "/healthz") == (200, {"status": "ok"})
        status, body = await _get(runtime, "/readyz")
        assert status == 503 and body["ready"] is False and "db upgrade" in body["schema"]
        await migrate.upgrade(runtime.db)
        status, body = await _get(runtime, "/readyz")
        assert status == 200 and body == {"ready": True, "database": "ok", "schema": "current"}
    finally:
        await runtime.close()


async def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing"
    runtime = Runtime.build(make_settings(url, tmp_path))
    try:
        status, body = await _get(runtime, "/readyz")
        assert status == 503 and body["ready"] is False and body["database"] == "unreachable"
        assert await _get(runtime, "/healthz") == (200, {"status": "ok"})
    finally:
        await runtime.close()
