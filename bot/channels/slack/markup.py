"""Slack's message markup in, plain text out: what the customer typed, nothing more.

Slack delivers a message's text as mrkdwn: `&`, `<` and `>` arrive as `&amp;`, `&lt;`
and `&gt;`, and what Slack recognised is wrapped in angle brackets: links
`<http://x|x>`, `<mailto:a@b.dk|a@b.dk>`, `<tel:+45...|+45 ...>`, user and channel
mentions `<@U123>` and `<#C123|general>`, and `<!here>`-style specials. The router and
everything after it must see the plain text (a company name "Annas Bageri & Café ApS",
not "Annas Bageri &amp; Café ApS"; "Webshop.dk ApS", not a link). Going out, text is
escaped exactly once by `blocks`.
"""

from __future__ import annotations

import re

# One markup element: <target> or <target|label>. The customer's own < and > arrive
# escaped, so every angle bracket in a message is Slack's.
_ELEMENT = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SCHEMES = ("mailto:", "tel:", "sms:")


def _element(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # <@U123> or <@U123|anna>: a user mention
        return "@" + (label or target[1:])
    if target.startswith("#"):  # <#C123|general>: a channel mention
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^", 1)[0]
    if label:  # a link as the customer wrote it: the words, not the address
        return label
    for scheme in _SCHEMES:
        if target.startswith(scheme):
            return target[len(scheme) :]
    return target


def unescape(text: str) -> str:
    """Slack's three entities back to characters (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_plain(text: str) -> str:
    """A Slack message's text as the plain text the customer typed."""
    return unescape(_ELEMENT.sub(_element, text))
