"""A customer simulator: replays a written dialog against the real web chat and judges it.

The simulator reads only what a customer sees: the bot's texts and buttons over the web
chat API. It answers what the bot asks the way the dialog's customer answers (their
yes-word, their contact, the code from the outbox typed their way, the new value...),
sends the customer's own messages when the bot is not waiting for an answer, then plays
the agent (approves every request, answers human reviews) and runs the worker. The
dialog succeeds when its `expect` holds: exactly the right requests opened, the facts
stated, the account changed, the notice sent to the customer's contact, the hand-over
asked for, the referrals made.
"""

from __future__ import annotations

import asyncio
import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.runtime import Runtime
from storage.models import Account, Consent, Conversation, OutboxMessage, Person
from storage.privacy_models import AgentAlert, PrivacyRequest
from tests.webchat import WebChat
from workflow import decisions, identity, worker
from workflow.approvals import Agent
from workflow.lifecycle import WorkflowError

Client = TestClient[Any, Any]
MAX_TURNS = 30
SAME_ASK_LIMIT = 3
PERSONA_EMAIL = {"anna": "anna@example.dk", "ben": "ben@example.com"}
PURPOSE_WORDS = {
    "da": {"marketing_email": "nyhedsbreve", "tracking": "tracking", "profiling": "profilering"},
    "en": {"marketing_email": "newsletter", "tracking": "tracking", "profiling": "profiling"},
}
FIELD_WORDS = {
    "da": {
        "email": "e-mail",
        "phone": "telefonnummer",
        "name": "navn",
        "company": "firmanavn",
        "address": "adresse",
    },
    "en": {
        "email": "email",
        "phone": "phone number",
        "name": "name",
        "company": "company name",
        "address": "address",
    },
}
NO_CODE = {"da": "jeg har ikke fået nogen kode", "en": "I haven't received any code"}
NEUTRAL_REASON = {"da": "det har jeg skrevet ovenfor", "en": "as I wrote above"}
CONFUSED = re.compile(
    r"not sure I understood|didn't catch|can't answer that|ikke sikker på, at jeg forstod|"
    r"fangede ikke|kan ikke selv svare|kan jeg ikke selv svare",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Dialog:
    id: str
    language: str
    persona: str
    style: str
    story: str
    say: list[str]
    answers: dict[str, Any]
    expect: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dialog:
        return cls(
            id=data["id"],
            language=data["language"],
            persona=data["persona"],
            style=data.get("style", ""),
            story=data.get("story", ""),
            say=list(data["say"]),
            answers=dict(data.get("answers") or {}),
            expect=dict(data.get("expect") or {}),
        )


def load(path: Path) -> list[Dialog]:
    return [
        Dialog.from_json(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


class Ask(enum.Enum):
    """What the bot's last message waits for, as a customer reads it."""

    CONFIRM = "confirm"
    CHOICE = "choice"
    CONTACT = "contact"
    CODE = "code"
    FIELD = "field"
    NEW_VALUE = "new_value"
    PURPOSES = "purposes"
    REASON = "reason"
    NOTHING = "nothing"


_CODE_ASK = re.compile(r"\b(code|kode|koden)\b", re.IGNORECASE)
_CONTACT_ASK = re.compile(r"e-?mail|phone|telefon|mobil|nummer|number", re.IGNORECASE)
_NEW_VALUE_ASK = re.compile(r"\b(new|ny|nye|nyt)\b", re.IGNORECASE)
_REASON_ASK = re.compile(r"\b(why|reason|hvorfor|grund|begrund|explain|forklar)", re.IGNORECASE)
_PURPOSE_VALUES = {"marketing_email", "tracking", "profiling", "all"}
_FIELD_VALUES = {"email", "phone", "name", "company", "address"}
_RIGHTS = {
    "access",
    "portability",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "human_review",
    "status",
    "cancel",
    "handover",
}


def what_is_asked(replies: list[dict[str, Any]]) -> Ask:
    """Read the bot's last turn as a customer would: buttons first, then the question."""
    if not replies:
        return Ask.NOTHING
    values = {b["value"] for r in replies for b in r.get("buttons", [])}
    last = replies[-1]["text"]
    if "confirm" in values:
        return Ask.CONFIRM
    if values & _PURPOSE_VALUES:
        return Ask.PURPOSES
    if len(values & _FIELD_VALUES) >= 2:
        return Ask.FIELD
    question = _question_sentence(last)
    if question is None:
        if len(values & _RIGHTS) >= 2 and CONFUSED.search(last):
            return Ask.CHOICE
        return Ask.NOTHING
    if _NEW_VALUE_ASK.search(question) and not _CODE_ASK.search(question):
        return Ask.NEW_VALUE
    if _CONTACT_ASK.search(question) and not _CODE_ASK.search(question):
        return Ask.CONTACT
    if _CODE_ASK.search(question):
        return Ask.CODE
    if _CONTACT_ASK.search(question):
        return Ask.CONTACT
    if _REASON_ASK.search(question):
        return Ask.REASON
    if len(values & _RIGHTS) >= 2:
        return Ask.CHOICE
    return Ask.NOTHING


_SENTENCE = re.compile(r"[^.?!]*[.?!]?")
_IMPERATIVE = re.compile(r"\b(type|skriv|indtast|enter)\b", re.IGNORECASE)


def _question_sentence(text: str) -> str | None:
    """The last sentence that asks something: a question, or a "type ..." instruction."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    for sentence in reversed(sentences):
        if sentence.endswith("?") or _IMPERATIVE.search(sentence):
            return sentence
    return None


@dataclass
class Result:
    dialog: Dialog
    ok: bool = False
    failures: list[str] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # the bot's words as the customer read them
    misunderstood: bool = False
    stuck: str | None = None  # what the bot kept asking for when the customer gave up
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.dialog.id,
            "ok": self.ok,
            "misunderstood": self.misunderstood,
            "stuck": self.stuck,
            "failures": self.failures,
            "error": self.error,
            "transcript": self.transcript,
        }


class Simulator:
    """Plays one dialog's customer, then its agent, then judges the outcome."""

    def __init__(self, client: Client, runtime: Runtime, data_dir: Path) -> None:
        self.client = client
        self.runtime = runtime
        self.data_dir = data_dir
        self.seen_outbox = 0
        self.last_code: str | None = None  # a code stays typeable after a wrong try
        self.answered_by_person: list[str] = []  # requests the system handed to a person

    async def run(self, dialog: Dialog) -> Result:
        result = Result(dialog)
        try:
            chat = await WebChat.open(self.client)
            await self._converse(dialog, chat, result)
            opened = await self._opened_details()
            await self._act_as_agent()
            await self._run_worker(chat)
            result.transcript = [(m["from"], m["text"]) for m in await chat.transcript()]
            result.failures = await self._judge(dialog, chat, result, opened)
        except Exception as exc:  # the run is judged failed, with the reason kept
            result.error = f"{type(exc).__name__}: {exc}"
            result.failures.append(f"error: {result.error}")
        result.ok = not result.failures
        return result

    # --- the customer -------------------------------------------------------------

    async def _converse(self, dialog: Dialog, chat: WebChat, result: Result) -> None:
        pending = list(dialog.say)
        answers = dialog.answers
        flags = {
            "wrong_code": bool(answers.get("wrong_code_first")),
            "no_code": answers.get("no_code_first"),
            "correction": answers.get("correction"),
        }
        replies: list[dict[str, Any]] = []
        last_ask, same = Ask.NOTHING, 0
        for _turn in range(MAX_TURNS):
            ask = what_is_asked(replies)
            if replies and any(CONFUSED.search(r["text"]) for r in replies):
                result.misunderstood = True
            if ask is not Ask.NOTHING and ask == last_ask:
                same += 1
                if same >= SAME_ASK_LIMIT:  # a customer gives up on a question asked again
                    result.stuck = ask.value
                    ask = Ask.NOTHING
            else:
                same = 0
            last_ask = ask
            if ask is Ask.CODE:  # a correction of the new value needs a value to correct
                flags["value_known"] = await self._new_value_known(chat.id)
            message, button = await self._answer(dialog, ask, replies, flags, pending)
            if message is None and button is None:
                return
            replies = await chat.send(message, button=button)
            result.seen += [r["text"] for r in replies]
        raise RuntimeError("the conversation did not end")

    async def _answer(
        self,
        dialog: Dialog,
        ask: Ask,
        replies: list[dict[str, Any]],
        flags: dict[str, Any],
        pending: list[str],
    ) -> tuple[str | None, str | None]:
        answers, language = dialog.answers, dialog.language
        if ask is Ask.CONFIRM:
            typo = answers.get("new_value")
            if flags.get("correction") and typo and _reads_back(replies, str(typo)):
                # a new value read back with the typo the customer made: they fix it here
                text, flags["correction"] = flags["correction"], None
                return str(text), None
            if "yes" in answers and answers["yes"] is None and answers.get("no"):
                return str(answers["no"]), None  # this customer changes their mind
            return str(answers.get("yes") or ("ja" if language == "da" else "yes")), None
        if ask is Ask.CHOICE:
            values = [b["value"] for r in replies for b in r.get("buttons", [])]
            if dialog.persona.startswith("recipient") and "recipient" in values:
                return None, "recipient"
            for kind in self._expected_kinds(dialog):
                if kind in values:
                    return None, kind
            return (pending.pop(0), None) if pending else (None, None)
        if ask is Ask.CONTACT:
            return str(answers.get("contact") or PERSONA_EMAIL.get(dialog.persona, "")), None
        if ask is Ask.CODE:
            if flags.get("correction") and flags.get("value_known"):
                text, flags["correction"] = flags["correction"], None
                return str(text), None
            if flags.get("no_code"):
                no_code = flags["no_code"]
                flags["no_code"] = None
                return (no_code if isinstance(no_code, str) else NO_CODE[language]), None
            code = await self._newest_code()
            if code is None:
                return NO_CODE[language], None
            if flags.get("wrong_code"):
                flags["wrong_code"] = False
                code = f"{(int(code) + 1) % 1_000_000:06d}"
            template = str(answers.get("code") or "{code}")
            return template.replace("{code}", code), None
        if ask is Ask.FIELD:
            details = self._expected_details(dialog, "rectification")
            field_name = str(details.get("field") or "email")
            return FIELD_WORDS[language].get(field_name, field_name), None
        if ask is Ask.NEW_VALUE:
            value = answers.get("new_value") or self._expected_details(dialog, "rectification").get(
                "value"
            )
            if value:
                return str(value), None
            return (pending.pop(0), None) if pending else (None, None)
        if ask is Ask.PURPOSES:
            text = answers.get("purposes")
            if text:
                return str(text), None
            purposes = self._expected_details(dialog, "objection").get("purposes") or []
            words = PURPOSE_WORDS[language]
            return (" og " if language == "da" else " and ").join(
                words.get(p, p) for p in purposes
            ) or ("alt" if language == "da" else "all"), None
        if ask is Ask.REASON:
            return str(answers.get("reason") or NEUTRAL_REASON[language]), None
        return (pending.pop(0), None) if pending else (None, None)

    async def _newest_code(self) -> str | None:
        async with self.runtime.db.sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(OutboxMessage)
                        .where(OutboxMessage.id > self.seen_outbox)
                        .order_by(OutboxMessage.id)
                    )
                )
                .scalars()
                .all()
            )
        for row in rows:
            self.seen_outbox = max(self.seen_outbox, row.id)
            found = identity.parse_code(row.text or "")
            if found is not None and "PR-" not in (row.text or ""):
                self.last_code = found
        return self.last_code

    @staticmethod
    def _expected_kinds(dialog: Dialog) -> list[str]:
        return [r["kind"] for r in dialog.expect.get("requests") or []]

    @staticmethod
    def _expected_details(dialog: Dialog, kind: str) -> dict[str, Any]:
        for request in dialog.expect.get("requests") or []:
            if request.get("kind") == kind:
                return dict(request.get("details") or {})
        return {}

    async def _new_value_known(self, conversation_id: str) -> bool:
        """Whether the bot holds a new value for a correction (the customer has given one)."""
        async with self.runtime.db.sessions() as session:
            conversation = await session.get(Conversation, conversation_id)
        state = conversation.state if conversation is not None else None
        slots = state.get("slots") if isinstance(state, dict) else None
        return isinstance(slots, dict) and bool(slots.get("value"))

    # --- the agent and the worker -------------------------------------------------

    async def _act_as_agent(self) -> None:
        agent = Agent.from_identity(self.runtime.services.secret, "simulated-agent")
        second = Agent.from_identity(self.runtime.services.secret, "simulated-agent-2")
        for _round in range(3):
            async with self.runtime.db.sessions() as session:
                waiting = (
                    (
                        await session.execute(
                            select(PrivacyRequest.reference).where(
                                PrivacyRequest.status == "awaiting_approval"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            if not waiting:
                break
            for reference in waiting:
                for who in (agent, second):
                    try:
                        async with self.runtime.db.transaction() as session:
                            await decisions.approve(
                                session, reference, who, self.runtime.services.clock()
                            )
                    except WorkflowError:
                        continue

    async def _fetch_copies(self, chat: WebChat) -> int:
        """The customer downloads the files the chat links to (an erasure waits for
        copies not fetched yet); how many were fetched."""
        links = {
            urlsplit(word.strip("()<>.,")).path
            for message in await chat.transcript()
            if message["from"] == "bot"
            for word in message["text"].split()
            if "/downloads/" in word
        }
        fetched = 0
        for link in sorted(links):
            response = await self.client.get(link)
            await response.read()
            fetched += response.status == 200
        return fetched

    async def _run_worker(self, chat: WebChat) -> None:
        from tests.workflow.conftest import make_deps

        deps = make_deps(self.runtime.db, self.runtime.services.clock, self.data_dir)
        deps.data_dir = self.runtime.settings.data_dir
        for _ in range(2):
            await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True)
        if await self._fetch_copies(chat):
            await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True)
        agent = Agent.from_identity(self.runtime.services.secret, "simulated-agent")
        async with self.runtime.db.sessions() as session:
            running = (
                (
                    await session.execute(
                        select(PrivacyRequest).where(PrivacyRequest.status == "in_progress")
                    )
                )
                .scalars()
                .all()
            )
            reviews = [
                r.reference for r in running if await decisions.waits_for_a_person(session, r)
            ]
        self.answered_by_person += reviews
        for reference in reviews:
            async with self.runtime.db.transaction() as session:
                await decisions.answer(
                    session,
                    reference,
                    agent,
                    "A person has looked at your request.",
                    self.runtime.services.clock(),
                )
        if reviews:
            await worker.run_worker(deps, stop=asyncio.Event(), concurrency=2, once=True)

    # --- the judge ----------------------------------------------------------------

    async def _opened_details(self) -> dict[int, dict[str, Any]]:
        """The requests' details as the conversation left them (closing scrubs them)."""
        async with self.runtime.db.sessions() as session:
            rows = (await session.execute(select(PrivacyRequest))).scalars().all()
        return {r.id: dict(r.details or {}) for r in rows}

    async def _judge(
        self, dialog: Dialog, chat: WebChat, result: Result, opened: dict[int, dict[str, Any]]
    ) -> list[str]:
        expect = dialog.expect
        failures: list[str] = []
        async with self.runtime.db.sessions() as session:
            requests = (
                (
                    await session.execute(
                        select(PrivacyRequest)
                        .where(PrivacyRequest.status != "cancelled")
                        .order_by(PrivacyRequest.id)
                    )
                )
                .scalars()
                .all()
            )
            outbox = (await session.execute(select(OutboxMessage))).scalars().all()
        wanted = expect.get("requests") or []
        got_kinds = sorted(r.kind for r in requests)
        want_kinds = sorted(r["kind"] for r in wanted)
        if got_kinds != want_kinds:
            failures.append(f"requests: wanted {want_kinds}, opened {got_kinds}")
        nth: dict[str, int] = {}  # two corrections: the second wanted is the second opened
        for want in wanted:
            details = want.get("details") or {}
            match = [r for r in requests if r.kind == want["kind"]]
            index = nth[want["kind"]] = nth.get(want["kind"], -1) + 1
            if not details or index >= len(match):
                continue
            have = opened.get(match[index].id, {})
            for key, value in details.items():
                if key == "purposes":
                    if sorted(have.get(key) or []) != sorted(value):
                        failures.append(
                            f"{want['kind']}.{key}: wanted {value}, got {have.get(key)}"
                        )
                elif str(have.get(key, "")).casefold() != str(value).casefold():
                    failures.append(f"{want['kind']}.{key}: wanted {value!r}")
        later = [text for who, text in result.transcript if who == "bot"]
        bot_text = _normal(" ".join([*result.seen, *later]))
        for alternatives in expect.get("facts") or []:
            if not any(_normal(a) in bot_text for a in alternatives):
                failures.append(f"fact not stated: {alternatives}")
        failures += await self._judge_effects(dialog, expect.get("effects") or {})
        notice = expect.get("notice")
        if notice:
            references = [r.reference for r in requests]
            route = "email" if notice == "email" else "sms"
            sent = [
                m
                for m in outbox
                if m.channel == route and any(ref in (m.text or "") for ref in references)
            ]
            if not sent:
                failures.append(f"no outcome notice by {route}")
        if expect.get("handover") and not await self._handover_asked(chat.id):
            failures.append("no hand-over to a person")
        if expect.get("referrals"):
            failures += await self._judge_referrals(expect["referrals"])
        return failures

    async def _judge_effects(self, dialog: Dialog, effects: dict[str, Any]) -> list[str]:
        if not effects:
            return []
        failures: list[str] = []
        account_id = await self._account_of(PERSONA_EMAIL.get(dialog.persona))
        async with self.runtime.db.sessions() as session:
            account = await session.get(Account, account_id) if account_id else None
            person = await session.scalar(
                select(Person)
                .where(Person.account_id == account_id)
                .order_by(Person.is_primary.desc(), Person.id)
            )
            consents = {
                c.purpose: c.granted
                for c in (
                    await session.execute(select(Consent).where(Consent.account_id == account_id))
                ).scalars()
            }
        if account is None:
            return ["the account is gone"]
        for key, value in effects.items():
            if key in ("email", "phone", "name"):
                have = getattr(person, key) if person is not None else None
                if key == "phone":
                    parsed = identity.parse_phone(str(value))
                    value = parsed.value if parsed else value
                if str(have or "").casefold() != str(value).casefold():
                    failures.append(f"effect {key}: wanted {value!r}")
            elif key == "company":
                if (account.company or "") != value:
                    failures.append(f"effect company: wanted {value!r}, have {account.company!r}")
            elif key == "address":  # the store holds no address: a person must make it
                if not self.answered_by_person:
                    failures.append("effect address: no person was asked to make the change")
            elif key == "erased":
                if value and account.status != "closed":
                    failures.append("effect: the account was not erased")
            elif key == "restricted":
                if bool(account.restricted) != bool(value):
                    failures.append("effect: restriction not in place")
            elif key == "consents_off":
                still = [p for p in value if consents.get(p, False)]
                if still:
                    failures.append(f"effect: consents still on: {still}")
            else:
                failures.append(f"effect {key}: not checked by the simulator")
        return failures

    async def _account_of(self, email: str | None) -> int | None:
        if email is None:
            return None
        async with self.runtime.db.sessions() as session:
            # The account's id never changes, even when the email is corrected or erased:
            # the demo accounts are the first two, in the order they are seeded.
            ids = (await session.execute(select(Account.id).order_by(Account.id))).scalars().all()
        index = list(PERSONA_EMAIL).index(next(p for p, e in PERSONA_EMAIL.items() if e == email))
        return ids[index] if index < len(ids) else None

    async def _handover_asked(self, conversation_id: str) -> bool:
        async with self.runtime.db.sessions() as session:
            rows = (await session.execute(select(AgentAlert))).scalars().all()
        return any(
            row.event == "handover" and conversation_id in json.dumps(row.params or {})
            for row in rows
        )

    async def _judge_referrals(self, wanted: list[str]) -> list[str]:
        try:
            from storage.referral_models import Referral  # type: ignore[import-not-found]
        except ImportError:
            return ["referrals: the bot has no referrals"]
        async with self.runtime.db.sessions() as session:
            rows = (await session.execute(select(Referral))).scalars().all()
            ids = (await session.execute(select(Account.id).order_by(Account.id))).scalars().all()
        names = {ids[i]: p for i, p in enumerate(PERSONA_EMAIL) if i < len(ids)}
        got = sorted({names.get(r.account_id, "?") for r in rows})
        return [] if got == sorted(wanted) else [f"referrals: wanted {wanted}, got {got}"]


def _normal(text: str) -> str:
    return " ".join(text.casefold().replace("\u00a0", " ").split())


def _reads_back(replies: list[dict[str, Any]], value: str) -> bool:
    """Whether the bot's last replies read `value` back (a confirmation of it)."""
    return any(value.casefold() in str(r.get("text", "")).casefold() for r in replies)
