"""Folding and tokenising, shared by the lexicon and the input so that both sides meet.

Danish letters are folded (æ→ae, ø→oe, å→aa) because customers often type without
them; other accents are dropped. Punctuation survives only as clause and sentence
boundaries, which negation and phrase matching must not cross.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

SENTENCE = "."
QUESTION = "?"
CLAUSE = ","
BOUNDARIES = frozenset({SENTENCE, QUESTION, CLAUSE})

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "’": "'", "‘": "'", "´": "'", "`": "'"})
# an address, without the punctuation that ends its clause ("mail a@b.dk, then...")
_ADDRESSES = re.compile(r"(?:\S+@\S+?|https?://\S+?|www\.\S+?)([.,;:!?)\]]*)(?=\s|$)")
_E_MAIL = re.compile(r"\be-(?=mail)")
_APOSTROPHE = re.compile(r"(?<=[a-z0-9])'")
_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf"
_TOKEN = re.compile(rf"[a-z0-9]+|[?]+|[.!;:]+|[,()\[\]/\u2013\u2014]|(?<=\s)[-+&](?=\s)|[{_EMOJI}]")
_DANISH_LETTERS = re.compile(r"[æøå]")
# "heeej", "pleeease": one letter (written \1\1+: a counted repeat of \1 scans 3x slower)
_STRETCHED = re.compile(r"([a-z])\1\1+")
_ORDINAL_DOT = re.compile(r"(?<=\d)\.(?=\s+[a-zæøå])")  # "den 12. maj": no sentence end
MAX_CHARS = 4000
# the boundary marker of each punctuation token, by its first character
_MARKS = {
    "?": QUESTION,
    **dict.fromkeys(".!;:", SENTENCE),
    **dict.fromkeys(",()[]/\u2013\u2014-+&", CLAUSE),
}
_MARK = re.compile(f"[{re.escape(''.join(_MARKS))}]")  # any character of _MARKS


def fold(text: str) -> str:
    """Casefold, fold Danish letters and drop accents; used on lexicon and input alike.
    Not cached: a cache by the whole text would keep customers' messages in memory."""
    if text.isascii():  # most messages: casefold is lower, and only "`" is in _DANISH
        text = text.lower()
        return text.replace("`", "'") if "`" in text else text
    text = text.casefold().translate(_DANISH)
    if not text.isascii():
        text = "".join(
            ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        )
    return text


def folded(words: Iterable[str]) -> frozenset[str]:
    """Words of a rules table folded as the text is, to compare with its tokens."""
    return frozenset(_APOSTROPHE.sub("", fold(word)) for word in words)


def tokenise(text: str) -> list[str]:
    """Words, emoji and boundary markers (`.`, `?`, `,`) of folded `text`."""
    text = text[:MAX_CHARS]
    if "@" in text or "http" in text or "www." in text:
        text = _ADDRESSES.sub(r" \1", text)
    if "." in text:
        text = _ORDINAL_DOT.sub("", text)
    folded = fold(text)
    if "e-" in folded:
        folded = _E_MAIL.sub("e", folded)
    if "'" in folded:
        folded = _APOSTROPHE.sub("", folded)
    if _STRETCHED.search(folded) is not None:  # rare: searching is cheaper than sub
        folded = _STRETCHED.sub(r"\1", folded)
    found: list[str] = _TOKEN.findall(folded)
    if _MARK.search(folded) is None:
        return found  # words and emoji only (every other message): no boundary to merge
    tokens: list[str] = []
    for token in found:
        mark = _MARKS.get(token[0])
        if mark is None:  # a word or an emoji
            tokens.append(token)
        elif tokens and tokens[-1] in BOUNDARIES:
            if mark != CLAUSE:
                tokens[-1] = mark
        else:
            tokens.append(mark)
    return tokens


def is_word(token: str) -> bool:
    """True for words and emoji, False for boundary markers."""
    return token not in BOUNDARIES


def danish_letter_words(text: str) -> int:
    """How many words of the raw text contain æ, ø or å: strong evidence of Danish."""
    if text.isascii():
        return 0  # no letter folds into æ, ø or å from ASCII
    text = text[:MAX_CHARS].casefold()
    if _DANISH_LETTERS.search(text) is None:
        return 0  # most messages: no word to look at
    return sum(1 for word in text.split() if _DANISH_LETTERS.search(word))
