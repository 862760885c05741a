"""Block Kit for customer replies: text as escaped mrkdwn, buttons and a link button.

Slack reads `&`, `<` and `>` as markup in mrkdwn, so a customer's or handler's text is
escaped before it is shown; nothing else is, so a URL in a reply still becomes a link.
"""

from __future__ import annotations

from typing import Any

from handlers.types import Reply

SECTION_LIMIT = 3000  # characters in one section's text
LABEL_LIMIT = 75  # characters in a button's label
BUTTON_PREFIX = "reply_button_"
LINK_ACTION = "reply_link"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = LABEL_LIMIT) -> dict[str, Any]:
    """A plain_text object, shortened to what Slack accepts."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def sections(text: str) -> list[Block]:
    """`text` as mrkdwn sections, split so no section exceeds Slack's limit."""
    escaped = escape(text) or " "
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": escaped[i : i + SECTION_LIMIT]}}
        for i in range(0, len(escaped), SECTION_LIMIT)
    ]


def reply_blocks(reply: Reply) -> list[Block]:
    """One bot reply: its text, then its buttons and link in one actions block."""
    blocks = sections(reply.text)
    elements: list[dict[str, Any]] = [
        {
            "type": "button",
            "action_id": f"{BUTTON_PREFIX}{n}",
            "text": plain(button.label),
            "value": button.value,
        }
        for n, button in enumerate(reply.buttons[:24])
    ]
    if reply.link is not None:
        elements.append(
            {
                "type": "button",
                "action_id": LINK_ACTION,
                "text": plain(reply.link.label),
                "url": reply.link.url,
                "style": "primary",
            }
        )
    if elements:
        blocks.append({"type": "actions", "block_id": "reply_actions", "elements": elements})
    return blocks


def fallback(text: str) -> str:
    """The message's `text`: shown in notifications and read by screen readers."""
    return escape(text)[:SECTION_LIMIT]
