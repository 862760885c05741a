"""Agent-facing names for request kinds, statuses, alert and audit events.

One table for the Slack approvals channel, the console and the alerts, so an agent reads
the same words everywhere and in both languages.
"""

from __future__ import annotations

from locales import N_, _

KINDS = {
    "access": N_("Access"),
    "portability": N_("Data portability"),
    "rectification": N_("Rectification"),
    "erasure": N_("Erasure"),
    "restriction": N_("Restriction"),
    "objection": N_("Objection"),
    "human_review": N_("Human review"),
}
STATUSES = {
    "received": N_("Received"),
    "awaiting_verification": N_("Awaiting verification"),
    "verified": N_("Verified"),
    "awaiting_approval": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
    "failed": N_("Failed"),
}
VERIFIED_VIA = {
    "email_code": N_("one-time code by email"),
    "sms_code": N_("one-time code by SMS"),
    "telegram_contact": N_("phone number shared in Telegram"),
}
CHANNELS = {
    "webchat": N_("Web chat"),
    "slack": N_("Slack"),
    "telegram": N_("Telegram"),
    "console": N_("Terminal chat"),
}
ALERTS = {
    "awaiting_approval": N_("Approval needed"),
    "human_review": N_("Human review needed"),
    "action_failed": N_("Request failed"),
    "deadline_soon": N_("Deadline in 7 days"),
    "deadline_passed": N_("Deadline passed"),
    "code_locked": N_("Wrong codes: verification paused"),
}
AUDIT_EVENTS = {
    "received": N_("Request received"),
    "status": N_("Status changed"),
    "action_done": N_("Action carried out"),
    "action_retry": N_("Action failed; will retry"),
    "approval_recorded": N_("Approval recorded"),
    "extended": N_("Deadline extended"),
    "verification_unlocked": N_("Verification by code unlocked"),
    "referral_opened": N_("Referral opened"),
    "referral_status": N_("Status changed"),
    "referral_suppressed": N_("Messages to the number stopped"),
}
ACTION_STATUSES = {
    "ready": N_("Waiting"),
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}
# SMS recipients' requests forwarded to the sending accounts (workflow.referrals); a
# recipient's "objection" asks the account to stop the messages, so agents read it so.
REFERRAL_KINDS = {**KINDS, "objection": N_("Stop messages")}
REFERRAL_STATUSES = {
    "opened": N_("Opened"),
    "forwarded": N_("Forwarded"),
    "acknowledged": N_("Acknowledged"),
    "closed": N_("Closed"),
    "account_gone": N_("Account gone"),
}
DECISIONS = {"approve": N_("Approved"), "reject": N_("Rejected")}
LANGUAGES = {"da": "Dansk", "en": "English"}


def _pick(table: dict[str, str], value: str | None) -> str:
    if not value:
        return "—"
    return _(table[value]) if value in table else value


def kind(value: str) -> str:
    return _pick(KINDS, value)


def status(value: str) -> str:
    return _pick(STATUSES, value)


def channel(value: str) -> str:
    return _pick(CHANNELS, value)


def alert(value: str) -> str:
    return _pick(ALERTS, value)


def referral_kind(value: str) -> str:
    return _pick(REFERRAL_KINDS, value)


def referral_status(value: str) -> str:
    return _pick(REFERRAL_STATUSES, value)


def audit_event(value: str) -> str:
    return _pick(AUDIT_EVENTS, value)


def action_status(value: str) -> str:
    return _pick(ACTION_STATUSES, value)


def decision(value: str) -> str:
    return _pick(DECISIONS, value)


def verified_via(value: str | None) -> str:
    if not value:
        return _("not verified")
    return _pick(VERIFIED_VIA, value)


def language(value: str | None) -> str:
    return LANGUAGES.get(value or "", value or "—")
