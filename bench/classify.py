"""Classification throughput on the labelled set, against an in-run trivial baseline.

`python -m bench.classify [--json] [--seconds N]`. The baseline does the least any
classifier must do (casefold, split, one dict look-up per token), so the ratio shows
what the real recogniser costs on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.nlu import recognise

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "nlu" / "labelled.jsonl"


def utterances(path: Path = LABELLED) -> list[str]:
    """The texts of the labelled set."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def _throughput(work: Callable[[str], object], texts: Sequence[str], seconds: float) -> float:
    """Utterances per second of `work` over `texts`, repeated for about `seconds`."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for text in texts:
            work(text)
        done += len(texts)
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def _baseline_lookup() -> Callable[[str], object]:
    table = {"delete": "erasure", "slet": "erasure", "hej": "greeting", "hi": "greeting"}

    def baseline(text: str) -> object:
        hits = [table.get(token) for token in text.casefold().split()]
        return next((hit for hit in hits if hit), "other")

    return baseline


def run(seconds: float = 3.0) -> list[dict[str, Any]]:
    """Time the recogniser and the baseline for `seconds` each; one figure per backend."""
    texts = utterances()
    for text in texts:  # warm the per-token caches, as a running bot would have them
        recognise(text)
    value = _throughput(recognise, texts, seconds)
    baseline = _throughput(_baseline_lookup(), texts, seconds)
    return [
        {
            "name": "classify",
            "backend": "cpu",
            "value": round(value, 1),
            "unit": "utterances/s",
            "baseline": round(baseline, 1),
            "ratio": round(value / baseline, 4),
        }
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per figure")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args(argv)
    for figure in run(max(0.1, args.seconds)):
        if args.json:
            print(json.dumps(figure))
        else:
            print(
                f"{figure['name']}: {figure['value']:.0f} {figure['unit']} "
                f"(baseline {figure['baseline']:.0f}, ratio {figure['ratio']:.4f})"
            )


if __name__ == "__main__":
    main()
