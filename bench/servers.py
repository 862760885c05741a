"""The processes an HTTP benchmark runs: a `bench.webserver` child and `bench.loadgen`.

Both run as their own processes on 127.0.0.1, so the server under test, the load
generator and the driver (which plays the outside services) never share an event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0


class Server:
    """One `bench.webserver` child process. Its log goes to a file, never to a pipe
    nobody reads (a full pipe would stop the server in the middle of a log line)."""

    def __init__(self, mode: str, env: dict[str, str]) -> None:
        self.mode, self.env = mode, env
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __aexit__

    async def __aenter__(self) -> Server:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.webserver",
            self.mode,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
        )
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
            self.port = int(json.loads(line)["port"])
        except (ValueError, KeyError, TimeoutError):
            await self._stop()
            raise RuntimeError(f"{self.mode} server did not start: {self.log_tail()}") from None
        return self

    def log_tail(self, size: int = 1500) -> str:
        """The end of what the server wrote to stderr."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def _stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def __aexit__(self, *_exc: object) -> None:
        await self._stop()
        self._log.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def load(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run `bench.loadgen` in its own process with `spec`; its result."""
    path = folder / f"load-{secrets.token_hex(4)}.json"
    path.write_text(json.dumps(spec))
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), timeout=600)
    path.unlink(missing_ok=True)
    if child.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()[-1500:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"load generator: {result['errors']} connection errors")
    return result


def expect(result: dict[str, Any], what: str, allowed: tuple[str, ...] = ("200",)) -> None:
    """Every answer had one of the `allowed` statuses, and there were answers at all."""
    bad = {code: n for code, n in result["statuses"].items() if code not in allowed}
    if bad or not result["done"]:
        raise RuntimeError(f"{what}: unexpected answers {bad} ({result['done']} done)")
