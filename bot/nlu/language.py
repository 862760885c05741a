"""Which language a message is written in, and whether it asks to switch language.

Evidence per word comes from `data/language.json` (function words, greetings), from
the language tag of the lexicon pattern a word matches, and, for unknown words, from
spelling hints; words with æ, ø or å count heavily for Danish. With no evidence at
all the caller's hint decides, else English.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from bot.nlu.lexicon import load_json, token_hits
from bot.nlu.memo import WordMemo
from bot.nlu.text import BOUNDARIES, fold

LANGUAGES = ("da", "en")
DEFAULT = "en"


class LanguageVerdict(NamedTuple):
    """The chosen language with the evidence behind it (a named tuple: one per message,
    built faster than a frozen dataclass)."""

    language: str
    danish: float
    english: float
    danish_cues: int
    english_cues: int
    from_hint: bool


class _Evidence:
    """Word lists and spelling hints from `data/language.json`."""

    def __init__(self) -> None:
        data = load_json("language.json")
        self.words: dict[str, tuple[float, float]] = {}
        for language, index in (("da", 0), ("en", 1)):
            for word, weight in data[language].items():
                pair = list(self.words.get(fold(word), (0.0, 0.0)))
                pair[index] = float(weight)
                self.words[fold(word)] = (pair[0], pair[1])
        for word in data["neutral"]:
            self.words[fold(word)] = (0.0, 0.0)
        hints = data["char_hints"]
        self.hint_weight = float(hints["weight"])
        self.hint_cap = float(hints["cap"])
        self.hints = {lang: hints[lang] for lang in LANGUAGES}
        self.diacritic_weight = float(data["diacritic_weight"])
        self.lexicon_weight = float(data["lexicon_weight"])
        self.fuzzy_weight = float(data["fuzzy_weight"])
        # a message whose weaker language has more than this share of the stronger's
        # evidence is mixed: a typo may then be a word of either language
        self.mixed_ratio = float(data["mixed_ratio"])
        self.names: dict[str, str] = {fold(k): v for k, v in data["names"].items()}
        self.switch_cues = frozenset(fold(w) for w in data["switch_cues"])
        self.switch_blockers = frozenset(fold(w) for w in data["switch_blockers"])
        self.switch_max_words = int(data["switch_max_words"])
        self.switch_described = frozenset(fold(w) for w in data["switch_described"])
        self.switch_verbs = frozenset(fold(w) for w in data["switch_verbs"])

    def spelling(self, token: str, language: str) -> float:
        hints = self.hints[language]
        score = sum(self.hint_weight for p in hints["prefixes"] if token.startswith(p))
        score += sum(self.hint_weight for s in hints["suffixes"] if token.endswith(s))
        score += sum(self.hint_weight for i in hints["infixes"] if i in token)
        return min(score, self.hint_cap)


EVIDENCE = _Evidence()


def word_evidence(token: str) -> tuple[float, float]:
    """(Danish, English) evidence of one folded token; `WORD_EVIDENCE` caches it."""
    known = EVIDENCE.words.get(token)
    if known is not None:
        return known
    if not token.isalpha():
        return (0.0, 0.0)
    danish = english = 0.0
    for hit in token_hits(token, True):
        weight = EVIDENCE.fuzzy_weight if hit.how == "fuzzy" else EVIDENCE.lexicon_weight
        if hit.language == "da":
            danish = max(danish, weight)
        elif hit.language == "en":
            english = max(english, weight)
    if danish or english:
        return (danish, english)
    if len(token) < 4:
        return (0.0, 0.0)
    return (EVIDENCE.spelling(token, "da"), EVIDENCE.spelling(token, "en"))


WORD_EVIDENCE: WordMemo[str, tuple[float, float]] = WordMemo(word_evidence)


def detect(
    tokens: Sequence[str],
    danish_letter_words: int,
    phrase_languages: Iterable[str],
    hint: str | None,
) -> LanguageVerdict:
    """Weigh the evidence; a tie (including no evidence) goes to `hint`, else English."""
    danish = EVIDENCE.diacritic_weight * danish_letter_words
    english = 0.0
    danish_cues = danish_letter_words
    english_cues = 0
    for token in tokens:
        if token in BOUNDARIES:
            continue
        da, en = WORD_EVIDENCE[token]
        danish += da
        english += en
        danish_cues += da > en
        english_cues += en > da
    for language in phrase_languages:
        if language == "da":
            danish += EVIDENCE.lexicon_weight
        elif language == "en":
            english += EVIDENCE.lexicon_weight
    if abs(danish - english) < 1e-9:
        chosen = hint if hint in LANGUAGES else DEFAULT
        return LanguageVerdict(chosen, danish, english, danish_cues, english_cues, True)
    chosen = "da" if danish > english else "en"
    return LanguageVerdict(chosen, danish, english, danish_cues, english_cues, False)


def clear(verdict: LanguageVerdict) -> bool:
    """True when the evidence, not the hint, chose the language, and the other language
    has much less of it: then a typo is read only as a word of the chosen language."""
    if verdict.from_hint:
        return False
    strong, weak = sorted((verdict.danish, verdict.english), reverse=True)
    return weak <= EVIDENCE.mixed_ratio * strong


def _describes(before: Sequence[str], window: Sequence[str]) -> bool:
    """Whether the language is named as what something is written in, with no verb that
    asks the bot to write or speak it."""
    described = any(w in EVIDENCE.switch_described for w in before)
    return described and not any(w in EVIDENCE.switch_verbs for w in window)


def requested_language(tokens: Sequence[str]) -> str | None:
    """'english please', 'skriv på dansk', 'dansk' → the language asked for, else None."""
    if EVIDENCE.names.keys().isdisjoint(tokens):
        return None  # most messages name no language
    words = [t for t in tokens if t not in BOUNDARIES]
    for index, word in enumerate(words):
        target = EVIDENCE.names.get(word)
        if target is None:
            continue
        following = words[index + 1] if index + 1 < len(words) else ""
        if following in EVIDENCE.switch_blockers:
            continue
        if len(words) <= EVIDENCE.switch_max_words:
            return target
        window = words[max(0, index - 4) : index + 3]
        if _describes(words[max(0, index - 3) : index], window):
            continue  # "your policy is in Danish": what something is written in
        if any(w in EVIDENCE.switch_cues for w in window):
            return target
    return None
