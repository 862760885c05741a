"""Agent-facing names for request kinds, statuses and verification methods."""

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


def kind(value: str) -> str:
    return _(KINDS[value]) if value in KINDS else value


def status(value: str) -> str:
    return _(STATUSES[value]) if value in STATUSES else value


def verified_via(value: str | None) -> str:
    if not value:
        return _("not verified")
    return _(VERIFIED_VIA[value]) if value in VERIFIED_VIA else value
