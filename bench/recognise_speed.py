"""Microseconds per `bot.nlu.recognise` call, optionally against another git revision.

`python -m bench.recognise_speed [--rounds N] [--baseline REV] [--repeats K]` times
recognise over every text of `tests/nlu/*.jsonl` (best of N rounds, CPU time, per-word
caches warm as in a running server). With --baseline, REV's `bot/` is unpacked with
`git archive` into a temporary folder and both versions are timed in fresh
subprocesses, alternating K times, so that a busy machine slows both alike; the ratio
is baseline time over this tree's time (above 1: this tree is faster).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def texts(root: Path = ROOT) -> list[str]:
    """Every distinct text of the NLU test sets."""
    found: dict[str, None] = {}
    for path in sorted((root / "tests" / "nlu").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    text = json.loads(line).get("text")
                    if isinstance(text, str):
                        found[text] = None
    return list(found)


def measure(rounds: int) -> float:
    """Best CPU microseconds per call over `rounds` passes of the texts (first pass warms)."""
    from bot.nlu import recognise

    sample = texts()
    for text in sample:
        recognise(text)
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for text in sample:
            recognise(text)
        best = min(best, time.process_time() - start)
    return best / len(sample) * 1e6


def _timed(source: Path, rounds: int) -> float:
    """`measure` in a fresh interpreter importing `bot` from `source`."""
    return in_fresh_interpreter(source, "bench.recognise_speed", rounds)


def in_fresh_interpreter(source: Path, module: str, argument: int) -> float:
    """`module.measure(argument)` in a fresh interpreter importing `bot` from `source`
    (this tree, or a revision `unpack`ed), so each version starts with empty caches."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bot.nlu; "
        "assert bot.nlu.__file__.startswith(sys.argv[1]), bot.nlu.__file__; "
        f"from {module} import measure; print(measure(int(sys.argv[2])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(source), str(argument)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip())


def unpack(revision: str, into: Path) -> bool:
    """`bot/` of `revision`, as committed, under `into`; False, said on stderr, when the
    revision cannot be unpacked."""
    archive = into / "bot.tar"
    try:
        with archive.open("wb") as handle:
            subprocess.run(
                ["git", "-C", str(ROOT), "archive", revision, "bot"], check=True, stdout=handle
            )
    except subprocess.CalledProcessError:
        print(f"error: cannot unpack bot/ of revision {revision!r}", file=sys.stderr)
        return False
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.recognise_speed",
        description="CPU microseconds per recognise() call over the NLU test texts, "
        "optionally against another git revision's recogniser, timed in turns.",
        epilog="Exit codes: 0 measured, 1 the baseline revision could not be unpacked, "
        "2 usage error.",
    )
    parser.add_argument("--rounds", type=int, default=5, help="passes per timing; the best counts")
    parser.add_argument("--baseline", help="git revision to compare with, e.g. main")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timings of each version, in turns (with --baseline)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per timing")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be at least 1")
    if not args.baseline:
        micros = measure(args.rounds)
        print(
            json.dumps({"us_per_call": round(micros, 1)})
            if args.json
            else f"{micros:.1f} us per call"
        )
        return 0
    with tempfile.TemporaryDirectory() as folder:
        if not unpack(args.baseline, Path(folder)):
            return 1
        for repeat in range(1, args.repeats + 1):
            print(
                f"[{repeat}/{args.repeats}] timing {args.baseline} and this tree", file=sys.stderr
            )
            before = _timed(Path(folder), args.rounds)
            after = _timed(ROOT, args.rounds)
            ratio = before / after
            if args.json:
                figures = {"baseline": args.baseline, "baseline_us": round(before, 1)}
                figures.update(this_tree_us=round(after, 1), ratio=round(ratio, 3))
                print(json.dumps(figures))
            else:
                print(f"{args.baseline}: {before:.1f} us, this tree: {after:.1f} us, x{ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
