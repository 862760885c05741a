"""Every fact a policy answer states comes from the policy (or, named, from the law)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import locales
from handlers.policy.answers import ANSWERS, GENERAL, LAW_FACTS, Answer

POLICY = Path(__file__).resolve().parents[2] / "handlers" / "policy" / "persondatapolitik.da.txt"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "policy"
# A number, an email address or web address, or a name written with capitals inside it.
_CLAIMS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:www\.)?[a-z0-9-]+\.(?:dk|com|io)\b|\d+(?:[.,]\d+)*"
)
ALL = (*ANSWERS.values(), GENERAL)


def _policy() -> str:
    return POLICY.read_text(encoding="utf-8")


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def test_the_policy_copy_is_the_companys_policy() -> None:
    shared = sorted(SHARED.glob("*.txt")) if SHARED.is_dir() else []
    if not shared:
        pytest.skip("the shared policy folder is not on this machine")
    assert _policy() == shared[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("answer", ALL, ids=lambda a: a.topic)
def test_each_section_an_answer_rests_on_is_in_the_policy(answer: Answer) -> None:
    policy = _normal(_policy())
    for section in answer.sections:
        assert _normal(section) in policy, f"{answer.topic}: no section {section!r}"


@pytest.mark.parametrize("answer", ALL, ids=lambda a: a.topic)
def test_each_fact_is_in_the_policy_or_named_as_law(answer: Answer) -> None:
    policy = _normal(_policy())
    for fact in answer.facts:
        assert _normal(fact) in policy or fact in LAW_FACTS, f"{answer.topic}: {fact!r}"


@pytest.mark.parametrize("language", ["en", "da"])
@pytest.mark.parametrize("answer", ALL, ids=lambda a: a.topic)
def test_an_answer_states_no_number_or_address_beyond_its_facts(
    answer: Answer, language: str
) -> None:
    with locales.use(language):
        text = locales._(answer.text)
    allowed = {_claim(c) for fact in answer.facts for c in _CLAIMS.findall(fact)}
    for claim in _CLAIMS.findall(text):
        assert _claim(claim) in allowed, f"{answer.topic} ({language}) states {claim!r}"


def _claim(text: str) -> str:
    return text.casefold().removeprefix("www.")


def test_the_outdated_privacy_shield_is_not_repeated_as_current_law() -> None:
    answer = ANSWERS["location"]
    for language in ("en", "da"):
        with locales.use(language):
            text = locales._(answer.text)
        assert "Privacy Shield" in text and "2020" in text
        assert "handover" in answer.offers


def test_the_danish_answers_keep_the_policys_own_words_for_its_facts() -> None:
    with locales.use("da"):
        retention = locales._(ANSWERS["retention"].text)
        legal = locales._(ANSWERS["legal_basis"].text)
    assert "30 dage" in retention and "4 cifre" in retention
    assert "artikel 6, stk. 1, litra b) og f)" in legal


def test_every_topic_the_recogniser_may_name_has_an_answer() -> None:
    topics = {
        "collected",
        "purposes",
        "legal_basis",
        "retention",
        "sharing",
        "cookies",
        "google_login",
        "location",
        "security",
        "controller",
        "processor",
        "rights",
        "deadline",
        "complaint",
        "contact",
        "message_content",
        "automated_decisions",
        "policy_changes",
    }
    assert topics <= set(ANSWERS)
