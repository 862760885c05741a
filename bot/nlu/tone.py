"""How a message sounds: upset or not, and whether it shows its language clearly.

Upset: angry or fed-up words that are not negated ("not that I'm unhappy" is calm),
angry emoji, shouting (several words in capitals that are no acronyms), "?!" and repeated
exclamation marks where the message is heated (it demands a stop, says something is wrong
or still not done, or negates) — in a polite or glad message ("sorry typo!!", "tak!!",
"vi er flyttet!!") they are emphasis, not anger. Language: one "ok", "yes" or "thanks"
says little about the language a customer wants to be answered in, so a message counts
as clearly in its language only with several words of evidence for it and little
against it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.nlu.cues import Cue
from bot.nlu.language import LanguageVerdict
from bot.nlu.lexicon import load_json
from bot.nlu.text import BOUNDARIES, MAX_CHARS

_DETAILS = load_json("rules.json")["details"]

CAPS_WORDS = int(_DETAILS["upset_caps_words"])
HEAT = frozenset(_DETAILS["upset_heat"])
ACRONYMS = frozenset(_DETAILS["acronyms"])
_CALM = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in _DETAILS["calm_words"]) + r")\b", re.IGNORECASE
)
SURE_MIN_CUES = int(_DETAILS["sure_min_cues"])
SURE_MIN_WORDS = int(_DETAILS["sure_min_words"])
SURE_RATIO = float(_DETAILS["sure_ratio"])
_CAPITALS = re.compile(r"\b[A-ZÆØÅ]{3,}\b")
# what every shouted word holds; searched for without word boundaries, it is found fast
_THREE_CAPITALS = re.compile(r"[A-ZÆØÅ]{3}")
_EXCLAIMED = re.compile(r"!\s*!")
_INDIGNANT = re.compile(r"\?\s*!|!\s*\?")  # "hvorfor?!"


def upset(text: str, cues: Sequence[Cue]) -> bool:
    """True when the customer sounds angry or fed up."""
    if any(c.concept == "UPSET" and not c.negated for c in cues):
        return True
    text = text[:MAX_CHARS]
    if "!" in text:  # "?!" and "!!" need one, and so does a single shouted word
        heated = any(c.negated or c.concept in HEAT for c in cues)
        if _INDIGNANT.search(text) or (heated and _EXCLAIMED.search(text)):
            return not _calm(text) or _shouting(text) >= CAPS_WORDS
        shouted = _shouting(text)
        return shouted >= CAPS_WORDS or (shouted == 1 and not _calm(text))
    return _shouting(text) >= CAPS_WORDS


def _calm(text: str) -> bool:
    return _CALM.search(text) is not None


def _shouting(text: str) -> int:
    """How many words are in capitals and no acronym."""
    if text.islower() or _THREE_CAPITALS.search(text) is None:
        return 0  # no capital letter at all, or no three in a row (most messages)
    return sum(1 for w in _CAPITALS.findall(text) if w not in ACRONYMS)


def language_sure(verdict: LanguageVerdict, tokens: Sequence[str], danish_letters: int) -> bool:
    """True when the text alone shows its language clearly enough to switch to it."""
    if verdict.from_hint:
        return False
    words = sum(1 for t in tokens if t not in BOUNDARIES)
    if verdict.language == "da":
        cues, strength, against = verdict.danish_cues, verdict.danish, verdict.english
    else:
        cues, strength, against = verdict.english_cues, verdict.english, verdict.danish
    if strength < SURE_RATIO * against:
        return False
    if verdict.language == "da" and danish_letters and words >= SURE_MIN_CUES:
        return True  # æ, ø and å belong to no English word
    return cues >= SURE_MIN_CUES and words >= SURE_MIN_WORDS
