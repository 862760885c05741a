"""Questions about the privacy policy: answered from the policy, never by opening a request.

Every topic a message asks about is answered, in the order asked (at most three). The
answer may offer the matching right as a button; pressing it starts that right's own
dialog. An open dialog stays open: the registry reminds the customer where it stood.
"""

from __future__ import annotations

from handlers import menu
from handlers.policy.answers import Answer, answer_for
from handlers.turn import Turn
from locales import _

MAX_TOPICS = 3


def asked(turn: Turn) -> list[Answer]:
    """The answers to the topics the message asks about, without repeats."""
    understanding = turn.understanding
    if understanding is None:
        return []
    topics = list(understanding.topics) or ([understanding.topic] if understanding.topic else [])
    found: list[Answer] = []
    for topic in topics:
        answer = answer_for(topic)
        if answer not in found:
            found.append(answer)
    return found[:MAX_TOPICS]


async def answer(turn: Turn) -> None:
    answers = asked(turn) or [answer_for(None)]
    offers: list[str] = []
    for index, found in enumerate(answers):
        last = index == len(answers) - 1
        offers += [o for o in found.offers if o not in offers]
        turn.say(_(found.text), menu.buttons_for(offers[:4]) if last else ())


def answer_along(turn: Turn) -> None:
    """A request phrased as a question ("what do you collect about me?"): answer the
    question first, then the request's own dialog follows."""
    for found in asked(turn):
        turn.say(_(found.text))
