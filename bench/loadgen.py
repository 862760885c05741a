"""A small HTTP/1.1 load generator, run as its own process: `python -m bench.loadgen SPEC`.

SPEC is a JSON file: {"port", "requests": [[path, {header: value}, body], ...],
"mode": "max" | "rate", "concurrency", "seconds", "rate", "count", "cycle"}.
- max: `concurrency` keep-alive connections send back to back for `seconds` (or until
  `count` requests were sent); requests are taken in order, from the start again when
  `cycle` is true.
- rate: request i is due at start + i / rate (open loop); latency is counted from when
  it was due, so a slow server cannot hide its queueing (no coordinated omission).
Only 127.0.0.1 is ever targeted. Requests are prebuilt bytes, so the generator spends
its time on sockets, not on building requests. Prints one JSON object: counts by
status, seconds, latency percentiles, and each request's send time (wall clock).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def build(port: int, path: str, headers: dict[str, str], body: str) -> bytes:
    payload = body.encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(payload)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    """Send one request, read its whole response; the status code."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    else:
        if b"chunked" in head.lower():
            raise RuntimeError("chunked responses are not supported")
    if length:
        await reader.readexactly(length)
    return status


class Run:
    def __init__(self, spec: dict[str, Any]) -> None:
        port = int(spec["port"])
        self.requests = [build(port, p, h, b) for p, h, b in spec["requests"]]
        self.port = port
        self.concurrency = int(spec.get("concurrency", 16))
        self.seconds = float(spec.get("seconds", 5.0))
        self.count = int(spec.get("count") or 10**12)
        self.cycle = bool(spec.get("cycle", True))
        self.rate = float(spec.get("rate", 200.0))
        self.statuses: dict[str, int] = {}
        self.latencies: list[float] = []
        self.sent_at: list[float] = []  # wall-clock send time per request index
        self.errors = 0

    def _record(self, status: int, latency: float) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        self.latencies.append(latency)

    def _limit(self) -> int:
        return self.count if self.cycle else min(self.count, len(self.requests))

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(HOST, self.port, limit=1 << 20)

    async def max(self) -> float:
        connections = [await self._connect() for _ in range(self.concurrency)]
        limit, next_index = self._limit(), 0
        start = time.perf_counter()
        deadline = start + self.seconds
        self.sent_at = [] if self.cycle else [0.0] * limit  # send times of unique requests

        async def loop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal next_index
            while next_index < limit and time.perf_counter() < deadline:
                index = next_index
                next_index += 1
                if index < len(self.sent_at):
                    self.sent_at[index] = time.time()
                began = time.perf_counter()
                try:
                    status = await _exchange(
                        reader, writer, self.requests[index % len(self.requests)]
                    )
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    self.errors += 1
                    return
                self._record(status, time.perf_counter() - began)

        await asyncio.gather(*(loop(r, w) for r, w in connections))
        seconds = time.perf_counter() - start
        for _reader, writer in connections:
            writer.close()
        del self.sent_at[min(next_index, limit) :]
        return seconds

    async def at_rate(self) -> float:
        total = min(self._limit(), int(self.rate * self.seconds))
        pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        for _ in range(self.concurrency):
            pool.put_nowait(await self._connect())
        self.sent_at = [0.0] * total if not self.cycle else []
        start = time.perf_counter()

        async def one(index: int, due: float) -> None:
            connection = await pool.get()
            if self.sent_at:
                self.sent_at[index] = time.time()
            try:
                status = await _exchange(*connection, self.requests[index % len(self.requests)])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self.errors += 1
                connection[1].close()
                pool.put_nowait(await self._connect())
                return
            self._record(status, time.perf_counter() - due)
            pool.put_nowait(connection)

        tasks = []
        for index in range(total):
            due = start + index / self.rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(index, due)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
        while not pool.empty():
            pool.get_nowait()[1].close()
        return seconds


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(min(rank, len(ordered))) - 1]


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    run = Run(spec)
    started = time.time()
    seconds = await (run.at_rate() if spec.get("mode") == "rate" else run.max())
    ordered = sorted(run.latencies)
    return {
        "started": started,
        "seconds": seconds,
        "done": len(run.latencies),
        "errors": run.errors,
        "statuses": run.statuses,
        "per_second": len(run.latencies) / seconds if seconds else 0.0,
        "p50_ms": _percentile(ordered, 50) * 1000,
        "p99_ms": _percentile(ordered, 99) * 1000,
        "max_ms": (ordered[-1] if ordered else float("nan")) * 1000,
        "sent_at": run.sent_at,
    }


if __name__ == "__main__":
    _spec = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(main(_spec))))
