"""A per-word cache that is cheap to read.

`functools.lru_cache` keeps its keys in order of use; that bookkeeping was most of the
cost of a cached look-up, made about twenty times a message. A `WordMemo` is a plain
dict read by subscription: on a miss it computes the value, and when full it starts
anew. Keys are words or pairs of words, never whole messages.

The bound is what keeps the web process's memory in check: customers keep using words
the recogniser never saw (typos, names, other languages), and at 65,536 keys each the
caches grew the process by 76 MB over 150,000 such messages, against 22 MB at 16,384
(`python -m bench.recognise_memory`); the NLU test sets' 3,152 words fit either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

WORDS = 16_384  # the bound of every per-word cache of the recogniser (pairs: twice that)

K = TypeVar("K")
V = TypeVar("V")


class WordMemo(dict[K, V], Generic[K, V]):
    """`memo[key]` is `compute(key)`, computed once while at most `size` keys are held."""

    def __init__(self, compute: Callable[[K], V], size: int = WORDS) -> None:
        super().__init__()
        self._compute = compute
        self._size = size

    def __missing__(self, key: K) -> V:
        if len(self) >= self._size:
            self.clear()  # a bound on memory; every value can be computed again
        value = self[key] = self._compute(key)
        return value
