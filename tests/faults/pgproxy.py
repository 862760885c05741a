"""A TCP proxy in front of PostgreSQL that can "stop the server" and "start it again".

The PostgreSQL server is shared (other test runs, CI), so it is never stopped for real.
The processes under test reach it through this proxy instead; `outage()` closes every
connection it carries and makes new ones fail at once (the listening socket accepts and
immediately closes them, which the driver sees as the server going away), and `restore()`
lets connections through again. `partition()` is the nastier failure, a network that
drops packets: connections stay open but nothing is forwarded either way, and new
connections are accepted but never answered, until `heal()`. Runs in its own thread, so
tests that drive it from synchronous code or from another event loop both work.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

_CHUNK = 64 * 1024


@dataclass
class PgProxy:
    """127.0.0.1:<port> → upstream; `url_for(pg_url)` rewrites a URL to go through it."""

    upstream_host: str = "127.0.0.1"
    upstream_port: int = 5432
    port: int = 0
    refused: int = 0  # connections closed at once during an outage
    _down: bool = False
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _flowing: asyncio.Event | None = None  # cleared while partitioned

    def start(self) -> PgProxy:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()

    def url_for(self, pg_url: str) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(pg_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def outage(self) -> int:
        """Cut every open connection and refuse new ones; returns how many were cut."""
        return int(self._call(self._cut()))

    def restore(self) -> None:
        """Let connections through again."""
        self._down = False

    def partition(self) -> None:
        """Stop forwarding, in both directions, without closing anything."""
        self._loop.call_soon_threadsafe(self._gate().clear)

    def heal(self) -> None:
        """Forward again what was held, and everything after it."""
        self._loop.call_soon_threadsafe(self._gate().set)

    # --- inside the proxy's loop ------------------------------------------------------

    def _call(self, coro: object) -> object:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout=30)

    def _gate(self) -> asyncio.Event:
        assert self._flowing is not None, "start() the proxy first"
        return self._flowing

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        self._gate().set()  # release what waits at the gate, so it can end
        await self._cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _cut(self) -> int:
        self._down = True
        writers = list(self._writers)
        for writer in writers:
            writer.transport.abort()  # a reset, like a server process that died
        self._writers.clear()
        return len(writers) // 2

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._down:
            self.refused += 1
            writer.transport.abort()
            return
        await self._gate().wait()  # partitioned: the connection is accepted, never answered
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(_CHUNK):
                await self._gate().wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
