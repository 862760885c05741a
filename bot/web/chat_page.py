"""`GET /`: the web chat page, with the words its script shows taken from the catalog.

The page (template `chat/index.html`) embeds the chat script's strings for both
languages as JSON, so the language switch works without a round trip and the Danish
catalog (checked by tests/test_catalog.py) is the only place the page's Danish lives.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

import locales
from bot.web.templating import render_page
from handlers.registry import INTENT_LABELS
from locales import N_, _, ngettext

routes = web.RouteTableDef()

STRINGS = {
    "docTitle": N_("GatewayAPI · Privacy assistant"),
    "title": N_("Privacy assistant"),
    "retention": N_("Your messages are stored for 30 days"),
    "newConversation": N_("New conversation"),
    "languageGroup": N_("Language"),
    "logLabel": N_("Conversation"),
    "welcomeLabel": N_("Welcome"),
    "welcome": N_(
        "Hi! I'm GatewayAPI's privacy assistant. I can show you the data we hold about you, "
        "delete your account, or put you in touch with a person. Write your question below, "
        "or choose one of these:"
    ),
    "inputLabel": N_("Your message"),
    "placeholder": N_("Write a message…"),
    "send": N_("Send"),
    "hint": N_("Enter sends · Shift+Enter adds a new line"),
    "typing": N_("The assistant is typing"),
    "you": N_("You:"),
    "assistant": N_("Assistant:"),
    "opensNewTab": N_("(opens in a new tab)"),
    # TRANSLATORS: sent to the bot when the customer switches the page to this language:
    # a short request, in this language, to go on in this language.
    "switchMessage": N_("english please"),
    "startNew": N_("Start a new conversation"),
    "started": N_("A new conversation has started."),
}
# The welcome's quick starts say what the transcript will say once pressed.
QUICK = {key: INTENT_LABELS[key] for key in ("access", "erasure", "handover")}
ERRORS = {
    "network": N_("We can't reach the server. Check your connection; we'll keep trying."),
    "tooLong": N_("Your message is too long. Please shorten it to at most 4,000 characters."),
    "expired": N_("This conversation has ended or can't be found."),
    "rateLimited": N_("You're sending messages very quickly. Please wait a moment and try again."),
    "unavailable": N_(
        "The service is temporarily unavailable. Please try again in a little while."
    ),
    "badRequest": N_("That message couldn't be sent. Please check it and try again."),
    "generic": N_("Something went wrong on our side. Please try again."),
}


def strings(language: str) -> dict[str, Any]:
    """The chat script's words in `language`; `charsLeft` holds the two plural forms
    (Danish and English both have one form for 1 and one for the rest)."""
    with locales.use(language):
        found: dict[str, Any] = {key: _(text) for key, text in STRINGS.items()}
        found["quick"] = {key: _(text) for key, text in QUICK.items()}
        found["errors"] = {key: _(text) for key, text in ERRORS.items()}
        found["charsLeft"] = {
            count: ngettext("{n} character left", "{n} characters left", n)
            for count, n in (("one", 1), ("other", 2))
        }
    return found


@routes.get("/")
async def chat_page(request: web.Request) -> web.Response:
    with locales.use(locales.DEFAULT_LANGUAGE) as language:
        page = render_page(
            request,
            "chat/index.html",
            {
                "language": language,
                "strings": {code: strings(code) for code in locales.LANGUAGES},
            },
        )
    return web.Response(text=page, content_type="text/html", charset="utf-8")
