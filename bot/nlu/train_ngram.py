"""`python -m bot.nlu.train_ngram FILE...`: rebuild the n-gram model from labelled files.

Writes the model JSON (stdout, or `--output`) for `bot/nlu/data/ngram.json`; see
`bot.nlu.ngram`. A file named `*unseen*` is refused before it is opened: an unseen set
measures text nothing was trained or tuned on, and training on it once would end that.
Exit codes: 0 written, 1 a file is missing or not JSON lines, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.nlu.ngram import train
from bot.nlu.scoring import INTENTS


def is_unseen(path: str | Path) -> bool:
    """Whether `path` names an unseen set (`tests/nlu/questions_unseen.jsonl`)."""
    return "unseen" in Path(path).name.casefold()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.nlu.train_ngram",
        description="Train the fallback intent model on labelled JSON-lines files "
        '({"text", "intent", ...} per line). Files named *unseen* are refused.',
        epilog="Exit codes: 0 written, 1 unreadable input, 2 usage error.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.jsonl", help="labelled utterances")
    parser.add_argument(
        "-o", "--output", type=Path, help="write the model here instead of to stdout"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    unseen = [path for path in args.files if is_unseen(path)]
    if unseen:
        parser.error(f"an unseen set is never trained on: {', '.join(unseen)}")
    rows: list[dict[str, Any]] = []
    for path in args.files:
        try:
            with Path(path).open(encoding="utf-8") as handle:
                rows.extend(json.loads(line) for line in handle if line.strip())
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"error: {path}: {type(exc).__name__}: {exc}\n")
            return 1
    model = train(rows, INTENTS, args.files)
    text = json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    sys.stderr.write(f"{len(rows)} rows, {len(model['counts'])} features\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
