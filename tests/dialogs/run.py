"""Run dialog sets through the simulator: one fresh seeded database per dialog.

    python -m tests.dialogs.run tests/dialogs/dev1.jsonl [...] [--json] [--show N] [--only ID]

Prints each set's success rate and the failed dialogs with their reasons; `--json`
prints one object per dialog instead. Exit 0 always when the sets ran (the figures are
the output), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.runtime import Runtime
from bot.web.app import create_app
from storage import demo_seed, migrate
from storage.db import Database
from tests.clock import FakeClock
from tests.conftest import make_settings
from tests.dialogs.simulator import Dialog, Result, Simulator, load


async def _template(folder: Path, clock: FakeClock) -> Path:
    path = folder / "template.db"
    db = Database(f"sqlite:///{path}")
    try:
        await migrate.upgrade(db)
        async with db.transaction() as session:
            await demo_seed.seed(session, now=clock())
    finally:
        await db.dispose()
    return path


async def run_one(dialog: Dialog, template: Path, folder: Path, clock: FakeClock) -> Result:
    target = folder / f"{dialog.id}.db"
    shutil.copy(template, target)
    settings = make_settings(f"sqlite:///{target}", folder / dialog.id, log_level="WARNING")
    runtime = Runtime.build(settings, clock=clock)
    try:
        app = create_app(runtime)
        app.on_cleanup.clear()
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            return await Simulator(client, runtime, folder / dialog.id).run(dialog)
    finally:
        await runtime.close()


async def run_sets(paths: list[Path], only: str | None) -> dict[str, list[Result]]:
    clock = FakeClock()
    results: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = await _template(folder, clock)
        for path in paths:
            dialogs = [d for d in load(path) if only is None or d.id == only]
            results[path.name] = [await run_one(d, template, folder, clock) for d in dialogs]
    return results


def _report(results: dict[str, list[Result]], show: int) -> None:
    total = ok = 0
    for name, found in results.items():
        passed = sum(r.ok for r in found)
        clean = sum(r.ok and not r.misunderstood for r in found)
        total, ok = total + len(found), ok + passed
        print(
            f"{name}: {passed}/{len(found)} ended as wanted ({_pct(passed, len(found))}), "
            f"{clean} without a misunderstanding"
        )
        for lang in ("da", "en"):
            part = [r for r in found if r.dialog.language == lang]
            if part:
                print(f"  {lang}: {sum(r.ok for r in part)}/{len(part)}")
        for result in [r for r in found if not r.ok][:show]:
            print(f"  FAIL {result.dialog.id} ({result.dialog.story})")
            for failure in result.failures:
                print(f"    - {failure}")
    print(f"all: {ok}/{total} ({_pct(ok, total)})")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path, help="dialog set files (JSON lines)")
    parser.add_argument("--json", action="store_true", help="one JSON object per dialog")
    parser.add_argument("--show", type=int, default=100, help="failed dialogs shown per set")
    parser.add_argument("--only", help="run only the dialog with this id")
    args = parser.parse_args(argv)
    missing = [p for p in args.sets if not p.is_file()]
    if missing:
        parser.error(f"no such file: {missing[0]}")
    logging.basicConfig(level=logging.CRITICAL)
    results = asyncio.run(run_sets(args.sets, args.only))
    if args.json:
        for name, found in results.items():
            for result in found:
                data: dict[str, Any] = {"set": name, **result.to_json()}
                print(json.dumps(data, ensure_ascii=False))
    else:
        _report(results, args.show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
