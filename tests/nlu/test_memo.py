"""The per-word cache gives what its function gives, also once it has started anew."""

from bot.nlu.memo import WordMemo


def test_word_memo_computes_once_and_stays_bounded() -> None:
    calls: list[str] = []

    def compute(word: str) -> int:
        calls.append(word)
        return len(word)

    memo = WordMemo(compute, size=2)
    assert [memo["a"], memo["bb"], memo["a"]] == [1, 2, 1]
    assert calls == ["a", "bb"]
    assert memo["ccc"] == 3  # full: starts anew
    assert len(memo) == 1
    assert memo["a"] == 1
    assert calls == ["a", "bb", "ccc", "a"]
