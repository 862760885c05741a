"""Memory the recogniser's per-word caches take when customers keep using new words.

`python -m bench.recognise_memory [--messages N] [--baseline REV] [--json]` recognises N
messages of four made-up words each (a fixed random seed; Danish and English hints in
turns) in a fresh interpreter and reports how much its resident memory grew: the caches
fill up to their bounds (`bot.nlu.memo.WordMemo`, the lexicon's `lru_cache`s) and no
further. The ingestion benchmark's RSS figure sends four texts over and over, so it never
sees this. With --baseline, REV's `bot/` is measured the same way first (`git archive`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.recognise_speed import ROOT, in_fresh_interpreter, unpack

_MODULE = "bench.recognise_memory"
BUDGET_MB = 32.0  # the web process measured 147-151 MB; its goal is under 200 MB


def measure(messages: int) -> float:
    """MB of resident memory the recogniser gained over `messages` messages of new words."""
    import gc
    import random
    import string

    from bot.nlu import recognise

    letters = string.ascii_lowercase + "æøå"
    chance = random.Random(1)
    words = [
        "".join(chance.choice(letters) for _ in range(chance.randint(4, 12)))
        for _ in range(messages * 4)
    ]
    recognise("hej", "da")
    gc.collect()
    before = _rss_mb()
    for index in range(messages):
        recognise(" ".join(words[index * 4 : index * 4 + 4]), "da" if index % 2 else "en")
    gc.collect()
    return _rss_mb() - before


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * 4096 / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.recognise_memory",
        description="Resident memory the recogniser's caches gain over messages of new "
        "words, optionally against another git revision's recogniser.",
        epilog=f"Exit codes: 0 within the {BUDGET_MB:.0f} MB budget, 1 over it or the "
        "baseline revision could not be unpacked, 2 usage error.",
    )
    parser.add_argument(
        "--messages", type=int, default=150_000, help="messages of four new words each"
    )
    parser.add_argument("--baseline", help="git revision to compare with, e.g. main")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    figures: dict[str, object] = {"messages": args.messages, "budget_mb": BUDGET_MB}
    if args.baseline:
        with tempfile.TemporaryDirectory() as folder:
            if not unpack(args.baseline, Path(folder)):
                return 1
            print(f"measuring {args.baseline} ({args.messages:,} messages)", file=sys.stderr)
            figures.update(
                baseline=args.baseline,
                baseline_mb=round(in_fresh_interpreter(Path(folder), _MODULE, args.messages), 1),
            )
    print(f"measuring this tree ({args.messages:,} messages)", file=sys.stderr)
    grown = in_fresh_interpreter(ROOT, _MODULE, args.messages)
    figures.update(this_tree_mb=round(grown, 1), ok=grown <= BUDGET_MB)
    if args.json:
        print(json.dumps(figures))
    else:
        before = f"{args.baseline}: {figures['baseline_mb']} MB, " if args.baseline else ""
        print(f"{before}this tree: {grown:.1f} MB (budget {BUDGET_MB:.0f} MB)")
    return 0 if grown <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
