"""Issue 13.15: a notice that embeds an agent's free text reads as separate sentences."""

from __future__ import annotations

import pytest

from bot.delivery import agent_text, render

DUE = {"reference": "PR-ABC123", "due_at": "2027-04-30T10:00:00+00:00"}


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("more documents than usual", "more documents than usual."),
        ("  more documents than usual  ", "more documents than usual."),
        ("Done already!", "Done already!"),
        ("Is this right?", "Is this right?"),
        ('He said "wait."', 'He said "wait."'),
        ("(see the invoice)", "(see the invoice)."),
        ("", ""),
    ],
)
def test_agent_text_ends_as_a_sentence(typed: str, shown: str) -> None:
    assert agent_text(typed) == shown


@pytest.mark.parametrize(
    ("event", "params", "expected"),
    [
        (
            "extended",
            {**DUE, "reason": "more documents than usual"},
            "Reason: more documents than usual. We will answer by",
        ),
        (
            "rejected",
            {**DUE, "reason": "we hold no data about you"},
            "Reason: we hold no data about you. If you disagree",
        ),
        (
            "completed",
            {**DUE, "kind": "human_review", "answer": "the decision stands"},
            "Their answer: the decision stands.",
        ),
    ],
)
def test_every_notice_with_an_agents_text_has_its_full_stop(
    event: str, params: dict[str, str], expected: str
) -> None:
    assert expected in render(event, params, "en")


def test_the_danish_extension_notice_too() -> None:
    text = render("extended", {**DUE, "reason": "flere dokumenter end normalt"}, "da")
    assert "flere dokumenter end normalt. " in text
