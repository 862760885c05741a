"""Real bot processes for the multi-process and fault tests: `python -m bot serve|worker`.

Each process runs in its own working directory (so no developer `.env` is read), with its
settings in the environment and its output in files the test reads. Waiting is always on
a condition (an HTTP answer, a line in the log, a row in the database) with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.conftest import TEST_SECRET
from tests.notifier.standins import free_port

DEADLINE = 90.0  # generous: only a failing test waits this long (CI machines may be busy)
POLL = 0.05
_SCRUBBED = ("DATABASE_URL", "DEMO", "SECRET_KEY", "SLACK_", "TELEGRAM_", "SMTP_", "SMS_", "PORT")


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, within: float = DEADLINE
) -> None:
    """Poll `check` until it is true; fail naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(POLL)


def base_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a bot process: this one's, minus any bot settings, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET,
        DATA_DIR=str(data_dir),
        LOG_LEVEL="INFO",
        HOST="127.0.0.1",
        WORKER_POLL_SECONDS="0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


@dataclass
class BotProcess:
    """One `python -m bot ...` subprocess with its stdout and stderr in files."""

    name: str
    args: list[str]
    env: dict[str, str]
    folder: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    _out: list[object] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.err"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start(self) -> BotProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        out = (self.folder / f"{self.name}.out").open("wb")
        err = self.log_path.open("wb")
        self._out += [out, err]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *self.args],
            cwd=self.folder,
            env=self.env,
            stdout=out,
            stderr=err,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def exit_code(self, within: float = DEADLINE) -> int:
        """Wait for the process to end by itself; its exit code (negative: killed by signal)."""
        assert self.proc is not None
        proc = self.proc
        await wait_until(lambda: _done(proc), f"{self.name} to exit\n{self.log()[-2000:]}", within)
        return int(proc.returncode)

    async def wait_log(self, text: str, count: int = 1, within: float = DEADLINE) -> None:
        async def seen() -> bool:
            if not self.running() and self.log().count(text) < count:
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
            return self.log().count(text) >= count

        await wait_until(seen, f"{count}x {text!r} in {self.name}'s log", within)

    async def wait_ready(self, http: aiohttp.ClientSession, within: float = DEADLINE) -> None:
        """Until GET /readyz answers 200 (a web process)."""

        async def ready() -> bool:
            if not self.running():
                raise AssertionError(f"{self.name} exited:\n{self.log()[-3000:]}")
            try:
                async with http.get(f"{self.url}/readyz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await wait_until(ready, f"{self.name} /readyz", within)

    def close(self) -> None:
        """Kill what is still running (a test that failed half-way) and close the files."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for handle in self._out:
            handle.close()  # type: ignore[attr-defined]
        self._out.clear()


async def _done(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is not None


@dataclass
class Fleet:
    """The processes of one test; `close()` ends whatever is left."""

    folder: Path
    env: dict[str, str]
    processes: list[BotProcess] = field(default_factory=list)

    def web(self, name: str, **settings: str) -> BotProcess:
        port = free_port()
        env = {**self.env, "PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}", **settings}
        process = BotProcess(name, ["serve"], env, self.folder / name, port=port)
        self.processes.append(process.start())
        return process

    def worker(self, name: str, *args: str, **settings: str) -> BotProcess:
        env = {**self.env, **settings}
        process = BotProcess(name, ["worker", *args], env, self.folder / name)
        self.processes.append(process.start())
        return process

    def close(self) -> None:
        for process in self.processes:
            process.close()
