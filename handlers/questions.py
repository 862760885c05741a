"""Questions about the privacy policy: answered from the policy, never by opening a request.

The answer may offer the matching right as a button; pressing it starts that right's
own dialog. An open dialog stays open: after the answer, the customer is reminded
where it stood.
"""

from __future__ import annotations

from handlers import menu
from handlers.policy.answers import answer_for
from handlers.turn import Turn
from locales import _


async def answer(turn: Turn) -> None:
    topic = turn.understanding.topic if turn.understanding is not None else None
    found = answer_for(topic)
    turn.say(_(found.text), menu.buttons_for(found.offers))
