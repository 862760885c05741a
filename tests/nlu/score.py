"""Per-field accuracy of `bot.nlu.recognise` on labelled JSON-lines sets.

`python -m tests.nlu.score FILE... [--misses FIELD]` prints, per file, the accuracy of
intent, language, topic, topics, act, rights, purposes and field, each on the lines where
the field applies (see `FIELDS`), and optionally the misses of one field. The test suite
uses the same measures, so the README's figures and the thresholds agree.

`topics` (every policy topic a message names) is exact where a line labels `topics`;
where it labels only one `topic`, the line counts when that topic is among them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.nlu import RIGHTS, Recognition, recognise

Row = dict[str, Any]


def rows_of(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def expected_rights(row: Row) -> list[str]:
    """The labelled rights, or the intent alone when it is a right."""
    if row.get("rights"):
        return list(row["rights"])
    return [row["intent"]] if row["intent"] in RIGHTS else []


def _applies_topic(row: Row) -> bool:
    return row["intent"] in ("question", "complaint") or bool(row.get("topic"))


def _applies_topics(row: Row) -> bool:
    return bool(row.get("topics") or row.get("topic"))


def _topics_match(row: Row, got: list[str]) -> bool:
    """Exact against labelled `topics`; else the one labelled topic is among them."""
    if row.get("topics"):
        return list(row["topics"]) == got
    return row["topic"] in got


def _applies_rights(row: Row) -> bool:
    return row["intent"] in RIGHTS or bool(row.get("rights"))


def _applies_purposes(row: Row) -> bool:
    return "objection" in expected_rights(row)


def _applies_field(row: Row) -> bool:
    return "rectification" in expected_rights(row)


# name -> (applies to the row, expected value, predicted value)
FIELDS: dict[
    str, tuple[Callable[[Row], bool], Callable[[Row], Any], Callable[[Recognition], Any]]
] = {
    "intent": (lambda r: True, lambda r: r["intent"], lambda p: p.intent),
    "language": (lambda r: True, lambda r: r["language"], lambda p: p.language),
    "topic": (_applies_topic, lambda r: r.get("topic"), lambda p: p.topic),
    "topics": (
        _applies_topics,
        lambda r: r.get("topics") or [r["topic"]],
        lambda p: list(p.topics),
    ),
    "act": (lambda r: True, lambda r: r.get("act"), lambda p: p.act),
    "rights": (_applies_rights, expected_rights, lambda p: list(p.rights)),
    "purposes": (
        _applies_purposes,
        lambda r: sorted(r.get("purposes") or ()),
        lambda p: sorted(p.purposes),
    ),
    "field": (_applies_field, lambda r: r.get("field"), lambda p: p.field),
}


@dataclass
class Tally:
    ok: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.total:
            return "-"
        return f"{self.ok}/{self.total} = {100 * self.ok / self.total:.1f} %"


# Sets written before these fields label only text, language and intent (plus topic
# where a line was relabelled a question): only those are measured there.
DETAIL = ("act", "rights", "purposes", "field")


def detailed(rows: Sequence[Row]) -> bool:
    """True for a set labelled with acts, rights, purposes and fields."""
    return any(key in row for row in rows for key in DETAIL)


def score(rows: Sequence[Row]) -> dict[str, Tally]:
    """Tallies per field over `rows`."""
    tallies = {name: Tally() for name in FIELDS}
    measured = set(FIELDS) if detailed(rows) else set(FIELDS) - set(DETAIL)
    for row in rows:
        result = recognise(row["text"])
        for name, (applies, expected, predicted) in FIELDS.items():
            if name not in measured or not applies(row):
                continue
            tally = tallies[name]
            tally.total += 1
            want, got = expected(row), predicted(result)
            if _topics_match(row, got) if name == "topics" else want == got:
                tally.ok += 1
            else:
                tally.misses.append(
                    f"  {row['intent']:>13} want {want!s:<22} got {got!s:<22} {row['text']}"
                )
    return tallies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.nlu.score", description=__doc__.splitlines()[0]
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--misses", action="append", default=[], choices=list(FIELDS))
    parser.add_argument("--json", action="store_true", help="one JSON object per file")
    args = parser.parse_args(argv)
    for path in args.files:
        tallies = score(rows_of(path))
        if args.json:
            print(
                json.dumps({"file": path.name, **{k: [t.ok, t.total] for k, t in tallies.items()}})
            )
            continue
        print(f"{path.name}: " + "; ".join(f"{k} {t}" for k, t in tallies.items() if t.total))
        for name in args.misses:
            print(f" {name} misses:")
            print("\n".join(tallies[name].misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
