"""`privacybot classify`: show how the bot reads messages, one JSON object per line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator

import click

from bot.nlu import recognise


def _utterances(texts: tuple[str, ...], stdin: Iterable[str]) -> Iterator[str]:
    if texts:
        yield from texts
        return
    for line in stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line


def classify_line(text: str, hint: str | None) -> str:
    """The JSON line printed for one utterance."""
    result = recognise(text, hint=hint)
    return json.dumps(
        {
            "text": result.text,
            "language": result.language,
            "language_sure": result.language_sure,
            "intent": result.intent,
            "confidence": round(result.confidence, 3),
            "topic": result.topic,
            "topics": list(result.topics),
            "act": result.act,
            "rights": list(result.rights),
            "purposes": list(result.purposes),
            "field": result.field,
            "upset": result.upset,
            "explanation": result.explanation,
        },
        ensure_ascii=False,
    )


@click.command("classify")
@click.argument("texts", nargs=-1)
@click.option(
    "--hint",
    type=click.Choice(["da", "en"]),
    default=None,
    help="Language to assume when a text shows no language of its own.",
)
def classify(texts: tuple[str, ...], hint: str | None) -> None:
    """Recognise the language and intent of each TEXT (or of each stdin line).

    Prints one JSON object per utterance: text, language, language_sure, intent,
    confidence, topic (of a policy question), act (yes, no, thanks, bye, no_code,
    how_long, what_next, more), rights (every right asked for, in order), purposes,
    field, upset and explanation. Blank stdin lines are skipped.
    """
    for text in _utterances(texts, sys.stdin if not texts else ()):
        click.echo(classify_line(text, hint))
