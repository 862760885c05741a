"""The concept lexicon: which concepts a word or phrase evokes, loaded from `data/concepts.json`.

Single-word patterns are indexed once at import (exact words in a dict, prefixes by
their first two letters, suffixes and infixes in short lists) and every distinct token
is looked up once thanks to `lru_cache`. Tokens that match nothing get a cached fuzzy
look-up (optimal string alignment distance) so that typos still find their concept;
only against words with the same first letter (typos rarely hit it, while real words
one letter apart, "hente"/"vente" or "think"/"thank", usually differ there).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.memo import WORDS, WordMemo
from bot.nlu.text import BOUNDARIES, fold

GAP = "~"
GAP_WORDS = 4
FUZZY_MIN_LENGTH = 5
FUZZY_PREFIX_MIN = 5


def load_json(name: str) -> dict[str, Any]:
    """One data file of this package, parsed."""
    raw = resources.files("bot.nlu").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


@dataclass(frozen=True, slots=True)
class Hit:
    """One concept evoked by a token; `how` says exact, prefix, affix or fuzzy."""

    concept: str
    language: str
    how: str


@dataclass(frozen=True, slots=True)
class TokenPattern:
    """One word of a pattern: exact, `pre*`, `*suf`, `*mid*`, or alternatives `a|b`."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    infixes: tuple[str, ...]

    @classmethod
    def parse(cls, spec: str) -> TokenPattern:
        exact: set[str] = set()
        prefixes: list[str] = []
        suffixes: list[str] = []
        infixes: list[str] = []
        for alt in spec.split("|"):
            if alt.startswith("*") and alt.endswith("*") and len(alt) > 2:
                infixes.append(alt[1:-1])
            elif alt.endswith("*"):
                prefixes.append(alt[:-1])
            elif alt.startswith("*"):
                suffixes.append(alt[1:])
            else:
                exact.add(alt)
        return cls(frozenset(exact), tuple(prefixes), tuple(suffixes), tuple(infixes))

    def matches(self, token: str) -> bool:
        if token in self.exact or token.startswith(self.prefixes):
            return True
        if self.suffixes and token.endswith(self.suffixes):
            for suffix in self.suffixes:
                if token.endswith(suffix) and token != suffix:
                    return True
        return bool(self.infixes) and any(infix in token for infix in self.infixes)


@dataclass(frozen=True, slots=True)
class Phrase:
    """A multi-word pattern; `None` parts are gaps of 0-4 words.

    `needs` holds, for every later part that only lists exact words, those words: a
    message lacking all of one group cannot match, which skips most attempts cheaply.
    """

    concept: str
    language: str
    parts: tuple[TokenPattern | None, ...]
    text: str
    needs: tuple[frozenset[str], ...] = ()
    words: int = 0  # how many parts are words, not gaps: longer phrases win

    def possible(self, words: frozenset[str]) -> bool:
        """False when some exact-only part has none of its words in `words`."""
        for need in self.needs:  # noqa: SIM110 - a plain loop: called ~50 times a message
            if need.isdisjoint(words):
                return False
        return True


def _tokens_of(pattern: str) -> list[str]:
    """Fold a pattern like the text is folded, keeping `*`, `|` and `~`."""
    folded = fold(pattern).replace("'", "").replace("-", " ")
    return folded.split()


class Lexicon:
    """Indexes over the concept patterns; built once per process.

    The `overlay` concepts (`data/details.json`) describe details such as a topic, a
    dialog act, a purpose or a field: their phrases are indexed apart, so they neither
    consume words of nor are blocked by the intent concepts' phrases.
    """

    def __init__(self, data: dict[str, Any], overlay: dict[str, Any] | None = None) -> None:
        overlay = overlay or {}
        self.overlay = frozenset(k for k in overlay if not k.startswith("_"))
        prefixes = tuple(overlay.get("_families", ()))
        # overlay concept -> its family: concepts sharing a prefix such as "T_" compete
        # for words; every other overlay concept is a family of its own
        self.family: dict[str, str] = {
            c: next((p for p in prefixes if c.startswith(p)), c) for c in self.overlay
        }
        # families whose cues keep full weight under hedges and sequences: "what do you
        # get *if I log in with Google*" still names the topic
        self.unscaled = frozenset(overlay.get("_unscaled_families", ()))
        # overlay families whose words may be misspelt and still count (slot values)
        fuzzy_families = tuple(overlay.get("_fuzzy_families", ()))
        self.unfuzzy = frozenset(c for c in self.overlay if not c.startswith(fuzzy_families))
        self.exact: dict[str, list[Hit]] = defaultdict(list)
        self.prefixes: dict[str, list[tuple[str, Hit]]] = defaultdict(list)
        self.affixes: list[tuple[TokenPattern, Hit]] = []
        self.phrases_by_word: dict[str, list[Phrase]] = defaultdict(list)
        self.phrases_by_pattern: list[Phrase] = []
        self.overlay_by_word: dict[str, list[Phrase]] = defaultdict(list)
        self.overlay_by_pattern: list[Phrase] = []
        fuzzy_words: dict[tuple[int, str], set[str]] = defaultdict(set)
        fuzzy_prefixes: dict[tuple[int, str], set[str]] = defaultdict(set)
        self.fuzzy_targets: dict[str, list[Hit]] = defaultdict(list)
        self.concepts: list[str] = []
        common = load_json("language.json")
        words = [*common["da"], *common["en"], *common["neutral"], *data.get("_no_fuzzy", ())]
        self.no_fuzzy = frozenset(fold(w) for w in words)
        for concept, by_language in (*data.items(), *overlay.items()):
            if concept.startswith("_"):
                continue
            self.concepts.append(concept)
            for language, patterns in by_language.items():
                for pattern in patterns:
                    self._add(concept, language, pattern, fuzzy_words, fuzzy_prefixes)
        self.fuzzy_words = {n: sorted(words) for n, words in fuzzy_words.items()}
        self.fuzzy_prefixes = {n: sorted(words) for n, words in fuzzy_prefixes.items()}
        for index in (self.phrases_by_word, self.overlay_by_word):
            for phrases in index.values():
                phrases.sort(key=lambda p: -p.words)
        self.phrases_by_pattern.sort(key=lambda p: -p.words)
        self.overlay_by_pattern.sort(key=lambda p: -p.words)

    def _add(
        self,
        concept: str,
        language: str,
        pattern: str,
        fuzzy_words: dict[tuple[int, str], set[str]],
        fuzzy_prefixes: dict[tuple[int, str], set[str]],
    ) -> None:
        words = _tokens_of(pattern)
        if len(words) > 1:
            parts = tuple(None if w == GAP else TokenPattern.parse(w) for w in words)
            needs = tuple(
                sorted(
                    (
                        p.exact
                        for p in parts[1:]
                        if p is not None and not (p.prefixes or p.suffixes or p.infixes)
                    ),
                    key=len,  # the most selective group first
                )
            )
            size = sum(1 for p in parts if p is not None)
            phrase = Phrase(concept, language, parts, " ".join(words), needs, size)
            first = parts[0]
            assert first is not None, pattern
            overlay = concept in self.overlay
            by_word = self.overlay_by_word if overlay else self.phrases_by_word
            if first.prefixes or first.suffixes or first.infixes:
                (self.overlay_by_pattern if overlay else self.phrases_by_pattern).append(phrase)
            for word in first.exact:
                by_word[word].append(phrase)
            return
        token = TokenPattern.parse(words[0])
        fuzzy = concept not in self.unfuzzy
        for word in token.exact:
            hit = Hit(concept, language, "exact")
            self.exact[word].append(hit)
            if fuzzy and len(word) >= FUZZY_MIN_LENGTH:
                fuzzy_words[len(word), word[0]].add(word)
                self.fuzzy_targets[word].append(hit)
        for prefix in token.prefixes:
            hit = Hit(concept, language, "prefix")
            self.prefixes[prefix[:2]].append((prefix, hit))
            if fuzzy and len(prefix) >= FUZZY_PREFIX_MIN:
                fuzzy_prefixes[len(prefix), prefix[0]].add(prefix)
                self.fuzzy_targets["*" + prefix].append(hit)
        if token.suffixes or token.infixes:
            shape = TokenPattern(frozenset(), (), token.suffixes, token.infixes)
            self.affixes.append((shape, Hit(concept, language, "affix")))

    def hits(self, token: str) -> tuple[Hit, ...]:
        """Concepts evoked by one folded token, without fuzzy matching."""
        found: list[Hit] = list(self.exact.get(token, ()))
        for prefix, hit in self.prefixes.get(token[:2], ()):
            if token.startswith(prefix):
                found.append(hit)
        for shape, hit in self.affixes:
            if shape.matches(token):
                found.append(hit)
        return tuple(dict.fromkeys(found))

    def fuzzy_hits(self, token: str) -> tuple[Hit, ...]:
        """Concepts of the nearest lexicon words or prefixes within one or two edits.

        Every word and prefix at the best distance counts ("exprot" is both the word
        "export" of REQUEST and the prefix "export*" of EXPORT).
        """
        size = len(token)
        limit = 1 if size < 9 else 2
        best = limit + 1
        targets: list[str] = []

        def consider(distance: int, target: str) -> None:
            nonlocal best
            if distance < best:
                best = distance
                targets.clear()
            if distance == best and target not in targets:
                targets.append(target)

        for length in range(size - limit, size + limit + 1):
            choices = self.fuzzy_words.get((length, token[0]))
            if not choices:
                continue
            found = process.extractOne(token, choices, scorer=OSA.distance, score_cutoff=limit)
            if found is not None:
                consider(int(found[1]), found[0])
        for (length, first), choices in self.fuzzy_prefixes.items():
            if length > size + 1 or first != token[0]:
                continue
            for head in sorted({token[: length - 1], token[:length], token[: length + 1]}):
                if len(head) < FUZZY_PREFIX_MIN - 1:
                    continue
                found = process.extractOne(head, choices, scorer=OSA.distance, score_cutoff=1)
                if found is not None:
                    consider(int(found[1]), "*" + found[0])
        hits = (Hit(h.concept, h.language, "fuzzy") for t in targets for h in self.fuzzy_targets[t])
        return tuple(dict.fromkeys(hits))

    def phrases_starting(self, token: str, overlay: bool = False) -> tuple[Phrase, ...]:
        """Phrases (of the overlay concepts, or of the others) whose first word matches
        `token`, longest first."""
        by_word = self.overlay_by_word if overlay else self.phrases_by_word
        by_pattern = self.overlay_by_pattern if overlay else self.phrases_by_pattern
        found = list(by_word.get(token, ()))
        found.extend(p for p in by_pattern if p.parts[0] and p.parts[0].matches(token))
        found.sort(key=lambda p: -p.words)
        return tuple(found)


LEXICON = Lexicon(load_json("concepts.json"), load_json("details.json"))


@lru_cache(maxsize=WORDS)
def phrases_starting(token: str, overlay: bool = False) -> tuple[Phrase, ...]:
    """Cached `Lexicon.phrases_starting`."""
    return LEXICON.phrases_starting(token, overlay)


Candidates = tuple[tuple[Phrase, ...], tuple[Phrase, ...]]


def phrase_candidates(first: str, second: str) -> Candidates:
    """Phrases of the intent concepts and of the overlay starting with `first` whose second
    part may be `second` (or is a gap): looked up per word pair, so a common first word
    ("hvad", "what") costs little, and once for both layers. `PHRASE_CANDIDATES` caches it."""
    return _candidates(first, second, False), _candidates(first, second, True)


# `phrase_candidates` by (first, second) word pair; none across a boundary marker
PHRASE_CANDIDATES: WordMemo[tuple[str, str], Candidates] = WordMemo(
    lambda pair: ((), ()) if BOUNDARIES.intersection(pair) else phrase_candidates(*pair),
    size=2 * WORDS,
)


def _candidates(first: str, second: str, overlay: bool) -> tuple[Phrase, ...]:
    return tuple(
        p
        for p in phrases_starting(first, overlay)
        if p.parts[1] is None or p.parts[1].matches(second)
    )


@lru_cache(maxsize=WORDS)
def token_hits(token: str, fuzzy_allowed: bool) -> tuple[Hit, ...]:
    """Concepts of a folded token; falls back to fuzzy matching when allowed and no
    intent concept fits (an overlay word such as "ok" does not stop a typo's match)."""
    found = LEXICON.hits(token)
    if any(h.concept not in LEXICON.overlay for h in found):
        return found
    if not fuzzy_allowed or len(token) < FUZZY_MIN_LENGTH or not token.isalpha():
        return found
    if token in LEXICON.no_fuzzy:
        return found
    fuzzy = LEXICON.fuzzy_hits(token)
    if found:  # the overlay's exact words stand; only intent concepts come from the typo
        fuzzy = tuple(h for h in fuzzy if h.concept not in LEXICON.overlay)
    return tuple(dict.fromkeys((*found, *_one_per_concept(fuzzy))))


def _one_per_concept(hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
    """One typo hit per concept; a concept reached by patterns of both languages is of
    neither (language ""), so a filter by language never drops it."""
    languages: dict[str, set[str]] = {}
    for hit in hits:
        languages.setdefault(hit.concept, set()).add(hit.language)
    return tuple(
        Hit(concept, next(iter(found)) if len(found) == 1 else "", "fuzzy")
        for concept, found in languages.items()
    )
