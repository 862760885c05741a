"""The approvals channel's card for a referral: a recipient's request forwarded to an account.

Posted by `agent_alerts.deliver` for the workflow's "referral" alert. It shows what an agent
needs to follow up (reference, kind, status, account, sender names) with the number masked;
the full number and the recipient's words went to the controller alone.
"""

from __future__ import annotations

from typing import Any

from bot import agent_labels as labels
from bot.channels.slack.blocks import Block, escape
from locales import _

EVENT = "referral"


def _outcome(params: dict[str, Any]) -> str:
    status = str(params.get("status", ""))
    if status == "forwarded":
        said = _("Emailed to the account's contact, who is asked to confirm receipt.")
    elif status == "account_gone":
        said = _("Not forwarded: the sending account is closed.")
    else:
        said = _("Not forwarded: the account has no email contact. Pass it on by hand.")
    if params.get("suppressed"):
        said += " " + _("As the account instructed, its messages to the number are stopped.")
    return said


def card_text(params: dict[str, Any]) -> str:
    """The one-line text (notifications, screen readers, clients without blocks)."""
    return _(
        ":incoming_envelope: {kind} request from an SMS recipient: referral {reference}"
    ).format(
        kind=labels.referral_kind(str(params.get("kind", ""))),
        reference=escape(str(params.get("reference", ""))),
    )


def card_blocks(params: dict[str, Any]) -> list[Block]:
    names = ", ".join(str(n) for n in params.get("sender_names") or ()) or "—"
    fields = [
        (_("Status"), labels.referral_status(str(params.get("status", "")))),
        (_("Account"), str(params.get("account_id", "—"))),
        (_("Number"), str(params.get("number", "—"))),
        (_("Sender names"), names),
    ]
    reference = escape(str(params.get("reference", "")))
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": card_text(params)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value)}"}
                for label, value in fields
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(_outcome(params)) + f" `privacybot referrals show {reference}`",
                }
            ],
        },
    ]
