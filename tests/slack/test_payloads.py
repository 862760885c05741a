"""Every signed Slack request is acknowledged, once, in the shapes Slack documents.

The bodies follow the Events API and interactivity payloads as Slack sends them (and as
bolt-python's own scenario tests use them): events no listener of ours wants, Slack's
`app_rate_limited` notice, shortcuts, closed modals, a mention in a channel, the App
Home tab. Each is answered 200 and handled at most once, also when Slack retries it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from storage.models import ProcessedDelivery
from storage.slack_models import SlackInboxEntry
from tests.slack.helpers import CUSTOMER, DM, SlackEnv, customer_lines, dm_event
from tests.slack.standin import BOT_ID, BOT_USER, TEAM

CHANNEL_C = "C0GENERAL"
ASKER = "UASKER01"


def _ts() -> str:
    return f"{time.time():.6f}"


# Events a listener of ours does not act on: acknowledged, nothing else.
IGNORED_EVENTS: dict[str, dict[str, Any]] = {
    "member_joined_channel": {
        "type": "member_joined_channel",
        "user": BOT_USER,
        "channel": CHANNEL_C,
        "channel_type": "C",
        "team": TEAM,
        "inviter": ASKER,
    },
    "reaction_added": {
        "type": "reaction_added",
        "user": CUSTOMER,
        "item": {"type": "message", "channel": DM, "ts": "1599529504.000400"},
        "reaction": "heart_eyes",
        "item_user": BOT_USER,
        "event_ts": "1599616881.000800",
    },
    "message_changed": {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            "type": "message",
            "text": "updated message",
            "user": CUSTOMER,
            "team": TEAM,
            "edited": {"user": CUSTOMER, "ts": "1665102362.000000"},
        },
        "previous_message": {"type": "message", "text": "original", "user": CUSTOMER},
        "channel": DM,
        "hidden": True,
        "ts": "1665102362.013600",
        "event_ts": "1665102362.013600",
        "channel_type": "im",
    },
    "message_deleted": {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": {"type": "message", "text": "Delete this", "user": CUSTOMER},
        "channel": DM,
        "hidden": True,
        "deleted_ts": "1665368619.804829",
        "event_ts": "1665368629.007100",
        "ts": "1665368629.007100",
        "channel_type": "im",
    },
    "bot_message": {
        **dm_event("Hi there! Thanks for sharing the info!"),
        "bot_id": "B999",
        "user": "UB111",
        "bot_profile": {"id": "B999", "name": "other-app", "app_id": "A222"},
    },
    "channel_message": {**dm_event("hello all"), "channel": CHANNEL_C, "channel_type": "channel"},
    "app_home_opened_messages_tab": {
        "type": "app_home_opened",
        "user": CUSTOMER,
        "channel": DM,
        "tab": "messages",
        "event_ts": "1606810927.510671",
    },
    "team_join": {"type": "team_join", "user": {"id": "UNEW", "name": "new"}},
}


def _interactions(slack: SlackEnv) -> dict[str, dict[str, Any]]:
    user = {"id": CUSTOMER, "username": "anna", "team_id": TEAM}
    team = {"id": TEAM, "domain": "workspace"}
    view = {
        "id": "V111",
        "team_id": TEAM,
        "type": "modal",
        "blocks": [],
        "private_metadata": "This is for you!",
        "callback_id": "view-id",
        "state": {"values": {}},
        "hash": "1596530361.3wRYuk3R",
        "title": {"type": "plain_text", "text": "My App"},
    }
    return {
        "global_shortcut": {
            "type": "shortcut",
            "token": "verification_token",
            "action_ts": "111.111",
            "team": team,
            "user": user,
            "callback_id": "test-shortcut",
            "trigger_id": "111.111.xxxxxx",
        },
        "message_shortcut": {
            "type": "message_action",
            "token": "verification_token",
            "action_ts": "1583637157.207593",
            "team": team,
            "user": {"id": CUSTOMER, "name": "anna"},
            "channel": {"id": CHANNEL_C, "name": "dev"},
            "callback_id": "test-shortcut",
            "trigger_id": "111.222.xxx",
            "message_ts": "1583636382.000300",
            "message": {"type": "message", "text": "<@W222> test", "user": CUSTOMER, "ts": "1.0"},
            "response_url": slack.api.response_url("shortcut"),
        },
        "view_closed": {
            "type": "view_closed",
            "team": team,
            "user": user,
            "api_app_id": "A0APP",
            "token": "verification_token",
            "view": view,
            "is_cleared": False,
        },
        "view_submission_of_another_modal": {
            "type": "view_submission",
            "team": team,
            "user": user,
            "api_app_id": "A0APP",
            "trigger_id": "t-other",
            "view": view,
        },
        "block_suggestion": {
            "type": "block_suggestion",
            "user": user,
            "team": team,
            "api_app_id": "A0APP",
            "action_id": "es_a",
            "block_id": "es_b",
            "value": "Da",
            "container": {"type": "view", "view_id": "V111"},
            "view": view,
        },
        "unknown_button": {
            "type": "block_actions",
            "user": user,
            "team": team,
            "api_app_id": "A0APP",
            "trigger_id": "t-unknown",
            "container": {"type": "message", "message_ts": "1.0", "channel_id": CHANNEL_C},
            "channel": {"id": CHANNEL_C, "name": "dev"},
            "actions": [
                {"type": "button", "action_id": "somebody_elses", "block_id": "b", "value": "x"}
            ],
        },
    }


async def _stored(slack: SlackEnv) -> tuple[int, int]:
    """(rows in the inbox, deliveries recorded as processed)."""
    async with slack.runtime.db.sessions() as session:
        inbox = await session.scalar(select(func.count()).select_from(SlackInboxEntry))
        done = await session.scalar(select(func.count()).select_from(ProcessedDelivery))
    return int(inbox or 0), int(done or 0)


def _said(slack: SlackEnv) -> list[str]:
    """Every Web API call that says something to someone."""
    wanted = ("chat.postMessage", "chat.postEphemeral", "views.publish", "views.open")
    return [call.method for call in slack.api.calls if call.method in wanted]


async def test_events_no_listener_wants_are_acknowledged_and_nothing_is_done(
    slack: SlackEnv,
) -> None:
    for name, event in IGNORED_EVENTS.items():
        for retry in (None, 1):
            response = await slack.event(event, event_id=f"Ev{name[:12]}", retry=retry)
            assert response.status == 200, (name, await response.text())
    await slack.settle()
    assert _said(slack) == []
    assert await _stored(slack) == (0, 0)
    assert await customer_lines(slack.runtime) == 0


async def test_interactions_no_listener_wants_are_acknowledged(slack: SlackEnv) -> None:
    for name, payload in _interactions(slack).items():
        response = await slack.interact(payload)
        assert response.status == 200, (name, await response.text())
    await slack.settle()
    assert _said(slack) == [] and slack.api.to("response_url") == []
    assert await _stored(slack) == (0, 0)


async def test_slacks_rate_limit_notice_is_acknowledged(slack: SlackEnv) -> None:
    body = json.dumps(
        {
            "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
            "type": "app_rate_limited",
            "team_id": TEAM,
            "minute_rate_limited": 1518467820,
            "api_app_id": "A0APP",
        }
    )
    response = await slack.post(body, "application/json")
    assert response.status == 200
    await slack.settle()
    assert _said(slack) == []


def _mention(text: str, **extra: Any) -> dict[str, Any]:
    ts = _ts()
    return {
        "client_msg_id": "9cbd4c5b-7ddf-4ede-b479-ad21fca66d63",
        "type": "app_mention",
        "text": text,
        "user": ASKER,
        "ts": ts,
        "team": TEAM,
        "channel": CHANNEL_C,
        "event_ts": ts,
        **extra,
    }


async def test_a_mention_in_a_channel_gets_one_private_pointer_to_the_dm(slack: SlackEnv) -> None:
    said = f"<@{BOT_USER}> please erase my account, my email is anna@example.dk"
    event = _mention(said)
    for retry in (None, 1, 2):
        response = await slack.event(event, event_id="Ev0MENTION1", retry=retry)
        assert response.status == 200
    await slack.settle()
    answers = slack.api.to("chat.postEphemeral")
    assert len(answers) == 1, "answered once, whatever Slack retried"
    answer = answers[0]
    assert (answer["channel"], answer["user"]) == (CHANNEL_C, ASKER)
    assert answer["thread_ts"] == event["ts"], "in the thread of the mention"
    assert "direct message" in answer["text"]
    assert "https://slack.com/app_redirect?app=A0APP&team=" + TEAM in answer["text"]
    for word in ("erase", "account", "anna", "example.dk"):
        assert word not in answer["text"], "nothing of the message is repeated"
    assert slack.api.to("chat.postMessage") == [], "nothing public"
    assert await customer_lines(slack.runtime, CHANNEL_C) == 0, "no conversation was started"


async def test_a_mention_is_answered_in_the_users_language_inside_its_thread(
    slack: SlackEnv,
) -> None:
    slack.api.locales[ASKER] = "da-DK"
    response = await slack.event(_mention(f"<@{BOT_USER}> hej", thread_ts="1700000000.000100"))
    assert response.status == 200
    await slack.settle()
    (answer,) = slack.api.to("chat.postEphemeral")
    assert answer["thread_ts"] == "1700000000.000100"
    assert "direkte besked" in answer["text"]


async def test_a_bots_mention_and_a_mention_in_a_dm_get_no_answer(slack: SlackEnv) -> None:
    await slack.event(_mention(f"<@{BOT_USER}> status", bot_id=BOT_ID))
    await slack.event(_mention(f"<@{BOT_USER}> hi", channel=DM))
    await slack.settle()
    assert _said(slack) == []


async def test_the_home_tab_shows_what_the_bot_does_in_the_users_language(
    slack: SlackEnv,
) -> None:
    def opened(user: str) -> dict[str, Any]:
        return {"type": "app_home_opened", "user": user, "channel": DM, "tab": "home"}

    slack.api.locales.update({CUSTOMER: "da-DK", "UENGLISH": "en-GB", "UFRENCH": "fr-FR"})
    for user in (CUSTOMER, "UENGLISH", "UFRENCH"):
        response = await slack.event(opened(user), event_id=f"Ev0HOME{user}")
        assert response.status == 200
    assert (
        await slack.event(opened(CUSTOMER), event_id=f"Ev0HOME{CUSTOMER}", retry=1)
    ).status == 200
    await slack.settle()
    published = {call["user_id"]: call["view"] for call in slack.api.to("views.publish")}
    assert len(slack.api.to("views.publish")) == 3, "once per opening, retries included"
    assert all(view["type"] == "home" for view in published.values())
    danish, english, french = (
        json.dumps(published[u], ensure_ascii=False) for u in (CUSTOMER, "UENGLISH", "UFRENCH")
    )
    assert "Hjælp om persondata" in danish and "engangskode" in danish
    assert "Privacy support" in english and "one-time code" in english
    assert french == english, "a language the bot does not speak: English"


async def test_the_home_tab_is_english_when_slack_cannot_say_the_locale(slack: SlackEnv) -> None:
    slack.api.failing.add("users.info")
    event = {"type": "app_home_opened", "user": CUSTOMER, "channel": DM, "tab": "home"}
    assert (await slack.event(event)).status == 200
    await slack.settle()
    (call,) = slack.api.to("views.publish")
    assert "Privacy support" in json.dumps(call["view"])


async def test_requests_bolt_would_fail_on_get_a_clear_4xx(slack: SlackEnv) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": dm_event("hi")})
    for timestamp in ("abc", "", "12.5", "-1", "1" * 40, "１２３"):
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        response = await slack.client.post("/slack/events", data=body, headers=headers)
        assert response.status == 401, timestamp
    for raw, kind in (
        (b"\xff\xfe{}", "application/json"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    ):
        response = await slack.client.post(
            "/slack/events", data=raw, headers={"Content-Type": kind}
        )
        assert response.status == 400, raw
        assert (await response.json())["error"]
    await slack.settle()
    assert _said(slack) == [] and await _stored(slack) == (0, 0)
