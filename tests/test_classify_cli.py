"""`privacybot classify`: arguments, stdin and the JSON line format."""

from __future__ import annotations

import json

from click.testing import CliRunner

from bot.commands.classify import classify

KEYS = {
    "text",
    "language",
    "language_sure",
    "intent",
    "confidence",
    "topic",
    "topics",
    "act",
    "rights",
    "purposes",
    "field",
    "upset",
    "explanation",
}


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_classifies_each_argument() -> None:
    result = CliRunner().invoke(classify, ["slet min konto", "I want to talk to a human"])
    assert result.exit_code == 0, result.output
    rows = _lines(result.output)
    assert [row["intent"] for row in rows] == ["erasure", "handover"]
    assert [row["language"] for row in rows] == ["da", "en"]
    for row in rows:
        assert set(row) == KEYS
        confidence = row["confidence"]
        assert isinstance(confidence, float)
        assert round(confidence, 3) == confidence


def test_reads_stdin_and_skips_blank_lines() -> None:
    result = CliRunner().invoke(classify, [], input="hej\n\n   \nPlease delete my data\n")
    assert result.exit_code == 0, result.output
    rows = _lines(result.output)
    assert [row["text"] for row in rows] == ["hej", "Please delete my data"]
    assert [row["intent"] for row in rows] == ["greeting", "erasure"]


def test_keeps_non_ascii_text_readable() -> None:
    result = CliRunner().invoke(classify, ["Jeg vil gerne ændre min e-mailadresse"])
    assert "ændre" in result.output
    assert _lines(result.output)[0]["intent"] == "rectification"


def test_hint_applies_only_without_evidence() -> None:
    result = CliRunner().invoke(classify, ["--hint", "da", "ok", "thanks"])
    assert [row["language"] for row in _lines(result.output)] == ["da", "en"]


def test_shows_the_details_of_each_message() -> None:
    result = CliRunner().invoke(
        classify,
        [
            "ret vores tlf nr til 22 33 44 55 og sluk for jeres tracking",
            "do you sell my data?",
            "jep",
            "SLET MIN KONTO NU!!",
        ],
    )
    assert result.exit_code == 0, result.output
    correct, question, yes, angry = _lines(result.output)
    assert correct["rights"] == ["rectification", "objection"]
    assert (correct["field"], correct["purposes"]) == ("phone", ["tracking"])
    assert (question["intent"], question["topic"], question["rights"]) == (
        "question",
        "sharing",
        [],
    )
    assert (yes["act"], yes["language_sure"]) == ("yes", False)
    assert (angry["intent"], angry["upset"], angry["act"]) == ("erasure", True, None)


def test_usage_errors_exit_2_and_help_explains() -> None:
    runner = CliRunner()
    assert runner.invoke(classify, ["--hint", "de", "hello"]).exit_code == 2
    helped = runner.invoke(classify, ["--help"])
    assert helped.exit_code == 0
    assert "language and intent" in helped.output
