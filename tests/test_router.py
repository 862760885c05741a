"""Router rules, with a scripted recogniser so each rule is tested on its own."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import ConversationRouter
from handlers.turn import Services
from handlers.types import Incoming, Reply
from storage import conversations
from storage.db import Database
from storage.models import Conversation


@dataclass(frozen=True)
class Scripted:
    language: str
    intent: str
    confidence: float = 0.9
    alternatives: tuple[tuple[str, float], ...] = ()
    language_request: str | None = None
    topic: str | None = None
    topics: tuple[str, ...] = ()
    act: str | None = None
    rights: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    field: str | None = None
    upset: bool = False
    language_sure: bool = True
    complains: bool = False


def router_for(db: Database, script: dict[str, Scripted]) -> ConversationRouter:
    def recognise(text: str, hint: str | None) -> Scripted:
        return script.get(text, Scripted(hint or "en", "other", 0.3))

    return ConversationRouter(db, Services(secret=b"s" * 32), recognise)


def values(replies: list[Reply]) -> list[str]:
    return [b.value for r in replies for b in r.buttons]


async def _state(db: Database, external_id: str) -> Conversation:
    async with db.sessions() as session:
        conversation = await conversations.find(session, "console", external_id)
    assert conversation is not None
    return conversation


async def test_low_confidence_offers_the_likely_intents_instead_of_acting(db: Database) -> None:
    router = router_for(
        db, {"hmm data": Scripted("en", "erasure", 0.4, (("access", 0.35), ("portability", 0.2)))}
    )
    replies = await router.handle(Incoming("console", "c1", text="hmm data"))
    assert values(replies) == ["erasure", "access", "portability", "other"]
    assert "not sure" in replies[0].text
    assert "flow" not in (await _state(db, "c1")).state, "nothing was started on a guess"


async def test_a_confident_privacy_intent_asks_for_confirmation_first(db: Database) -> None:
    router = router_for(db, {"delete me": Scripted("en", "erasure")})
    replies = await router.handle(Incoming("console", "c2", text="delete me"))
    assert values(replies) == ["confirm", "cancel", "more"]
    state = (await _state(db, "c2")).state
    assert state["flow"] == "erasure" and state["step"] == "confirm"
    replies = await router.handle(Incoming("console", "c2", button="cancel"))
    assert "Nothing has been changed" in replies[0].text
    assert "flow" not in (await _state(db, "c2")).state


async def test_language_follows_the_text_until_the_customer_picks_one(db: Database) -> None:
    router = router_for(
        db,
        {
            "hej": Scripted("da", "greeting"),
            "hello": Scripted("en", "greeting"),
            "english please": Scripted("en", "other", language_request="en"),
            "hej igen": Scripted("da", "greeting"),
        },
    )
    replies = await router.handle(Incoming("console", "c3", text="hej"))
    assert replies[0].text.startswith("Hej!")
    replies = await router.handle(Incoming("console", "c3", text="hello"))
    assert replies[0].text.startswith("Hello again")
    replies = await router.handle(Incoming("console", "c3", text="english please"))
    assert "English" in replies[0].text
    replies = await router.handle(Incoming("console", "c3", text="hej igen"))
    assert replies[0].text.startswith("Hello"), "an explicit choice of language sticks"
    assert (await _state(db, "c3")).locale == "en"


async def test_switching_to_danish_is_confirmed_in_danish(db: Database) -> None:
    router = router_for(db, {"skriv på dansk": Scripted("da", "other", language_request="da")})
    replies = await router.handle(
        Incoming("console", "c4", text="skriv på dansk", locale_hint="en")
    )
    assert "dansk" in replies[0].text


async def test_locale_hint_only_fills_a_gap(db: Database) -> None:
    router = router_for(db, {})
    replies = await router.handle(Incoming("console", "c5", button="handover", locale_hint="da-DK"))
    assert "medarbejder" in replies[0].text
    replies = await router.handle(Incoming("console", "c6", button="handover", locale_hint="fr-FR"))
    assert "support team" in replies[0].text


async def test_a_stale_button_gets_a_helpful_answer(db: Database) -> None:
    router = router_for(db, {})
    replies = await router.handle(Incoming("console", "c7", button="confirm"))
    assert "no longer open" in replies[0].text and "access" in values(replies)


async def test_a_platform_command_can_force_the_greeting(db: Database) -> None:
    router = router_for(db, {})
    replies = await router.handle(
        Incoming("console", "c8", text="/start", locale_hint="da", metadata={"intent": "greeting"})
    )
    assert replies[0].text.startswith("Hej!")


async def test_unknown_text_gets_help_and_documentation(db: Database) -> None:
    router = router_for(db, {"how do I send sms": Scripted("en", "other", 0.8)})
    replies = await router.handle(Incoming("console", "c9", text="how do I send sms"))
    assert replies[0].link is not None and "docs" in replies[0].link.url
    assert "access" in values(replies)
