"""Right not to be subject to a solely automated decision (Art. 22): a person reviews it."""

from __future__ import annotations

from handlers import menu
from handlers.privacy import Right, Slots, register
from handlers.state import Step
from handlers.turn import Turn
from locales import _
from workflow.text import clean_free_text

_MIN_WORDS = 6
MAX_DESCRIPTION = 500


def summary(_turn: Turn) -> str:
    return _(
        "I'll ask a person on our team to review the automated decision that affected you, "
        "for example a blocked account or message or a refused payment. You get their answer "
        "here. Shall I go ahead?"
    )


def details() -> str:
    return _(
        "A person looks at the decision afresh, with the information you give, and can "
        "change it. You can also tell us your point of view."
    )


def prefill(turn: Turn, slots: Slots) -> None:
    """A message long enough to describe the decision is used as the description."""
    text = clean_free_text(turn.text, MAX_DESCRIPTION)
    if len(text.split()) >= _MIN_WORDS:
        slots["decision"] = text


async def collect(turn: Turn) -> bool:
    dialog = turn.dialog
    if dialog.slots.get("decision"):
        return True
    text = clean_free_text(turn.text, MAX_DESCRIPTION)
    if dialog.asking == "decision" and text:
        dialog.slots["decision"] = text
        dialog.asking = None
        return True
    dialog.step, dialog.asking = Step.DETAILS, "decision"
    turn.say(
        _("Which automated decision should a person look at? Describe it in a sentence or two."),
        (menu.cancel_button(),),
    )
    return False


handle = register(Right("human_review", summary, details, collect=collect, prefill=prefill))
