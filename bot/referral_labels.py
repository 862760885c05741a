"""Agent-facing names for referral kinds and statuses, for Slack, the console and the CLI.

Kept beside `bot.agent_labels` (the privacy requests' table): a recipient's "objection" is
a request to stop the messages, which an agent should read as such.
"""

from __future__ import annotations

from locales import N_, _

KINDS = {
    "access": N_("Access"),
    "erasure": N_("Erasure"),
    "objection": N_("Stop messages"),
    "rectification": N_("Rectification"),
}
STATUSES = {
    "opened": N_("Opened"),
    "forwarded": N_("Forwarded"),
    "acknowledged": N_("Acknowledged"),
    "closed": N_("Closed"),
    "account_gone": N_("Account gone"),
}
AUDIT_EVENTS = {
    "referral_opened": N_("Referral opened"),
    "referral_status": N_("Status changed"),
    "referral_suppressed": N_("Messages to the number stopped"),
}


def _pick(table: dict[str, str], value: str | None) -> str:
    if not value:
        return "—"
    return _(table[value]) if value in table else value


def kind(value: str) -> str:
    return _pick(KINDS, value)


def status(value: str) -> str:
    return _pick(STATUSES, value)


def audit_event(value: str) -> str:
    return _pick(AUDIT_EVENTS, value)
