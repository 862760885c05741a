"""The chat page's words come from the catalog: both languages embedded as JSON, escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from bot.web import chat_page

Client = TestClient[Any, Any]
_EMBEDDED = re.compile(r'<script type="application/json" id="chat-strings">(.*?)</script>', re.S)


async def test_the_page_embeds_the_scripts_words_in_both_languages(client: Client) -> None:
    response = await client.get("/")
    page = await response.text()
    found = _EMBEDDED.search(page)
    assert response.status == 200 and found is not None
    strings = json.loads(found.group(1))
    assert set(strings) == {"da", "en"}
    assert strings["da"]["placeholder"] == "Skriv en besked…"
    assert strings["en"]["placeholder"] == "Write a message…"
    assert strings["da"]["quick"]["erasure"] == "Slet min konto"
    assert strings["da"]["errors"]["network"].startswith("Vi kan ikke få forbindelse")
    assert strings["en"]["charsLeft"] == {
        "one": "{n} character left",
        "other": "{n} characters left",
    }
    assert set(strings["da"]) == set(strings["en"])  # the script finds every key in both
    assert "<title>GatewayAPI · Privacy assistant</title>" in page


def test_every_chat_string_has_a_danish_translation() -> None:
    english, danish = chat_page.strings("en"), chat_page.strings("da")
    same = [key for key, text in english.items() if isinstance(text, str) and danish[key] == text]
    assert same == ["send"]  # "Send" is Danish too


def test_embedded_strings_cannot_close_the_script_element() -> None:
    """`tojson` escapes <, > and &: a translation holding </script> stays inside the JSON."""
    from bot.web.templating import environment

    source = '<script type="application/json">{{ s | tojson }}</script>'
    template = environment().from_string(source)
    html = template.render(s={"x": "</script><script>alert(1)</script>"})
    assert html.count("</script>") == 1
    assert json.loads(_strip(html))["x"].startswith("</script>")


def _strip(html: str) -> str:
    return html.removeprefix('<script type="application/json">').removesuffix("</script>")
