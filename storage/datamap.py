"""The data map: where personal data lives, why, for how long, and how it is erased.

One declarative table, read by the access and portability exports (which categories
exist and what they are for), by the erasure executor (how each field is erased) and
by the documents the customer receives (the Art. 15 summary and the erasure receipt),
so what we tell the customer and what the code does cannot drift apart. A test checks
that every column of the store holding personal data has an entry here.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from locales import N_

REDACTED = "[erased]"
ANONYMISED = "[anonymised]"  # what the retention sweep leaves of an old message's content
MASK = "XXXX"
REVOKED_PREFIX = "erased:"
HOLD_YEARS = 5
# The policy's rule for message data: after this many days the content and the last 4
# digits of the recipient number are anonymised (the retention sweep; referrals trace
# recipients only inside it).
SMS_RETENTION_DAYS = 30


class Strategy(StrEnum):
    """How a field is erased."""

    DELETE = "delete"  # the whole row is deleted
    NULL = "null"  # the value becomes NULL
    MASK_LAST4 = "mask_last4"  # all but the last 4 characters kept, those become XXXX
    HASH = "hash"  # keyed HMAC, for values that must still match (dedupe)
    REDACT = "redact"  # text replaced by the fixed marker REDACTED
    LEGAL_HOLD = "legal_hold"  # kept, unchanged, until the hold date, then erased
    REVOKE = "revoke"  # a credential hash replaced by a hash of random bytes
    WITHDRAW = "withdraw"  # a consent turned into a recorded withdrawal
    RESET = "reset"  # a JSON value emptied to its default
    KEEP = "keep"  # not personal on its own once unlinked; kept for the service


class Role(StrEnum):
    CONTROLLER = "controller"
    PROCESSOR = "processor"


@dataclass(frozen=True, slots=True)
class Category:
    """A category of personal data, as the customer reads it (Art. 15(1)(b))."""

    key: str
    label: str  # N_ marked; translate with _()
    retention: str  # N_ marked; translate with _()


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category(
            "identity",
            N_("Account and identity (company, name, Google login)"),
            N_("While the account is open; erased when the account is erased."),
        ),
        Category(
            "contact",
            N_("Contact details (email address, phone number)"),
            N_("While the account is open; erased when the account is erased."),
        ),
        Category(
            "credentials",
            N_("API keys (label and prefix; the key itself is stored only as a hash)"),
            N_("While the account is open; revoked when the account is erased."),
        ),
        Category(
            "network",
            N_("IP addresses, coarse location and browser information"),
            N_("While the account is open; deleted when the account is erased."),
        ),
        Category(
            "message_content",
            N_("SMS message content"),
            N_("Up to 30 days, then anonymised."),
        ),
        Category(
            "recipient",
            N_("SMS sender and recipient numbers and sender names"),
            N_("Up to 30 days, then the last 4 digits of the recipient number are anonymised."),
        ),
        Category(
            "billing",
            N_("Invoices and purchase history"),
            N_("5 years from the end of the financial year (the Danish Bookkeeping Act)."),
        ),
        Category(
            "payment",
            N_("Payment information"),
            N_("5 years from the end of the financial year (the Danish Bookkeeping Act)."),
        ),
        Category(
            "consent",
            N_("Consents to marketing, tracking and profiling"),
            N_("While the account is open; a withdrawal is kept as proof."),
        ),
        Category(
            "chat",
            N_("Support chats with us"),
            N_("30 days after the chat, longer only while a support case or request is open."),
        ),
        Category(
            "authentication",
            N_("One-time codes and messages sent to verify your identity"),
            N_("Codes expire after 10 minutes and are deleted; messages after 7 days."),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Field:
    """One personal column: what it is, why we hold it, and how it is erased."""

    table: str
    column: str
    category: str
    role: Role
    purpose: str  # N_ marked; translate with _()
    legal_basis: str
    retention: str
    erasure: Strategy

    @property
    def kept_by_law(self) -> bool:
        return self.erasure is Strategy.LEGAL_HOLD


_C, _P = Role.CONTROLLER, Role.PROCESSOR
_ACCOUNT = N_("Creating and running your account")
_SUPPORT = N_("Customer support")
_SECURITY = N_("Security and abuse prevention for the API and the website")
_SENDING = N_("Sending SMS messages on your behalf (as data processor)")
_BOOKKEEPING = N_("Invoicing and bookkeeping")
_MARKETING = N_("Marketing by email, tracking and profiling, when you have consented")
_VERIFY = N_("Verifying your identity before we act on a request")
_ART6B = "GDPR Art. 6(1)(b) contract"
_ART6C = "GDPR Art. 6(1)(c) legal obligation (Danish Bookkeeping Act)"
_ART6F = "GDPR Art. 6(1)(f) legitimate interests"
_ART6A = "GDPR Art. 6(1)(a) consent"
_ART28 = "GDPR Art. 28 data processing agreement (customer is controller)"
_OPEN = "while the account is open"
_SMS = "30 days, then anonymised"
_HOLD = "5 years from the end of the financial year"

DATA_MAP: tuple[Field, ...] = (
    # accounts: the account row is kept (closed) so held invoices keep their owner.
    Field("accounts", "company", "identity", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.NULL),
    Field("accounts", "google_subject", "identity", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.NULL),
    # people: nothing is left of a person once name, email and phone are gone.
    Field("people", "name", "identity", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.DELETE),
    Field("people", "email", "contact", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.DELETE),
    Field("people", "phone", "contact", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.DELETE),
    # api_keys: rows are kept revoked so an old key is recognised as revoked, not unknown.
    Field("api_keys", "label", "credentials", _C, _ACCOUNT, _ART6B, _OPEN, Strategy.REDACT),
    Field("api_keys", "key_hash", "credentials", _C, _SECURITY, _ART6B, _OPEN, Strategy.REVOKE),
    # access_log: no reason to keep any of it after the account is gone.
    Field("access_log", "ip", "network", _C, _SECURITY, _ART6F, _OPEN, Strategy.DELETE),
    Field("access_log", "location", "network", _C, _SECURITY, _ART6F, _OPEN, Strategy.DELETE),
    Field("access_log", "user_agent", "network", _P, _SUPPORT, _ART6F, _OPEN, Strategy.DELETE),
    # sms_messages: anonymised the way the retention rule does it, plus the sender; the
    # anonymous rows keep the traffic volume the held invoices were billed for.
    Field("sms_messages", "sender_number", "recipient", _P, _SENDING, _ART28, _SMS, Strategy.NULL),
    Field("sms_messages", "sender_name", "recipient", _P, _SENDING, _ART28, _SMS, Strategy.NULL),
    Field(
        "sms_messages", "recipient", "recipient", _P, _SENDING, _ART28, _SMS, Strategy.MASK_LAST4
    ),
    Field(
        "sms_messages", "content", "message_content", _P, _SENDING, _ART28, _SMS, Strategy.REDACT
    ),
    # invoices, lines, payments: accounting records under the Bookkeeping Act; only
    # what the act does not need is erased.
    *(
        Field("invoices", column, "billing", _C, _BOOKKEEPING, _ART6C, _HOLD, Strategy.LEGAL_HOLD)
        for column in ("billing_name", "billing_address", "vat_number")
    ),
    Field("invoices", "billing_email", "contact", _C, _BOOKKEEPING, _ART6B, _OPEN, Strategy.NULL),
    *(
        Field(
            "invoice_lines", column, "billing", _C, _BOOKKEEPING, _ART6C, _HOLD, Strategy.LEGAL_HOLD
        )
        for column in ("description", "quantity", "unit_price", "amount")
    ),
    *(
        Field("payments", column, "payment", _C, _BOOKKEEPING, _ART6C, _HOLD, Strategy.LEGAL_HOLD)
        for column in ("paid_at", "amount", "method")
    ),
    Field("payments", "card_last4", "payment", _C, _BOOKKEEPING, _ART6B, _OPEN, Strategy.NULL),
    # consents: a withdrawal is the record that proves we stopped (Art. 7(1)).
    Field("consents", "granted", "consent", _C, _MARKETING, _ART6A, _OPEN, Strategy.WITHDRAW),
    # the bot's own tables
    Field("conversations", "account_id", "chat", _C, _SUPPORT, _ART6B, _OPEN, Strategy.NULL),
    Field("conversations", "verified_until", "chat", _C, _VERIFY, _ART6C, _OPEN, Strategy.NULL),
    Field("conversations", "verified_via", "chat", _C, _VERIFY, _ART6C, _OPEN, Strategy.NULL),
    Field("conversations", "state", "chat", _C, _SUPPORT, _ART6B, _OPEN, Strategy.RESET),
    # The channel's chat id stays so the answer to this very request can be delivered;
    # once unlinked from the account and its transcript erased it says nothing more.
    Field("conversations", "external_id", "chat", _C, _SUPPORT, _ART6B, _OPEN, Strategy.KEEP),
    Field("transcript_messages", "text", "chat", _C, _SUPPORT, _ART6B, "30 days", Strategy.REDACT),
    # a signed download link to the customer's export or receipt: erased with the text
    Field("transcript_messages", "link", "chat", _C, _SUPPORT, _ART6B, "30 days", Strategy.NULL),
    Field(
        "verification_codes",
        "account_id",
        "authentication",
        _C,
        _VERIFY,
        _ART6C,
        "10 minutes",
        Strategy.DELETE,
    ),
    Field(
        "outbox_messages", "to", "authentication", _C, _VERIFY, _ART6C, "7 days", Strategy.DELETE
    ),
    Field(
        "outbox_messages",
        "subject",
        "authentication",
        _C,
        _VERIFY,
        _ART6C,
        "7 days",
        Strategy.DELETE,
    ),
    Field(
        "outbox_messages", "text", "authentication", _C, _VERIFY, _ART6C, "7 days", Strategy.DELETE
    ),
)

# Columns of the store that hold no personal data on their own: keys, links, states,
# timestamps of rows whose personal fields are mapped above, bot-generated values.
NON_PERSONAL: dict[str, frozenset[str]] = {
    "accounts": frozenset(
        {
            "id",
            "status",
            "restricted",
            "restricted_at",
            "created_at",
            "closed_at",
            "name_shown_to_recipients",
            "honours_recipient_stop",
        }
    ),
    "people": frozenset({"id", "account_id", "preferred_language", "is_primary", "created_at"}),
    "api_keys": frozenset(
        {"id", "account_id", "prefix", "created_at", "last_used_at", "revoked_at"}
    ),
    "access_log": frozenset({"id", "account_id", "at", "kind"}),
    "sms_messages": frozenset({"id", "account_id", "status", "sent_at", "anonymised_at"}),
    "invoices": frozenset(
        {"id", "account_id", "number", "issued_at", "currency", "total", "legal_hold_until"}
    ),
    "invoice_lines": frozenset({"id", "invoice_id"}),
    "payments": frozenset({"id", "invoice_id"}),
    "consents": frozenset({"id", "account_id", "purpose", "source", "updated_at"}),
    "conversations": frozenset(
        {"id", "channel", "token_hash", "locale", "last_seq", "version", "created_at", "updated_at"}
    ),
    "transcript_messages": frozenset(
        {"id", "conversation_id", "seq", "sender", "buttons", "created_at"}
    ),
    "verification_codes": frozenset(
        {
            "id",
            "conversation_id",
            "purpose",
            "channel",
            "code_hash",
            "attempts",
            "expires_at",
            "used_at",
            "created_at",
        }
    ),
    "outbox_messages": frozenset(
        {
            "id",
            "channel",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        }
    ),
    "processed_deliveries": frozenset({"source", "key", "created_at"}),
}


def fields(table: str | None = None) -> tuple[Field, ...]:
    """The map's entries, optionally for one table."""
    return tuple(f for f in DATA_MAP if table is None or f.table == table)


def strategy(table: str, column: str) -> Strategy:
    for entry in DATA_MAP:
        if entry.table == table and entry.column == column:
            return entry.erasure
    raise KeyError(f"{table}.{column} is not in the data map")


def categories(role: Role | None = None) -> list[Category]:
    """The categories the map holds, in map order (optionally for one role)."""
    keys = dict.fromkeys(f.category for f in DATA_MAP if role is None or f.role is role)
    return [CATEGORIES[key] for key in keys]


def purposes() -> list[str]:
    """Distinct purposes (N_ marked), in map order."""
    return list(dict.fromkeys(f.purpose for f in DATA_MAP))


def legal_hold_columns() -> frozenset[tuple[str, str]]:
    """(table, column) pairs the law makes us keep after an erasure."""
    return frozenset((f.table, f.column) for f in DATA_MAP if f.kept_by_law)


def legal_hold_until(issued: date | datetime) -> date:
    """End of the hold: 31 December of the issue year plus five (calendar financial year)."""
    return date(issued.year + HOLD_YEARS, 12, 31)


def mask_last4(value: str) -> str:
    """Keep all but the last 4 characters; those become XXXX (idempotent)."""
    return value[:-4] + MASK if len(value) > 4 else MASK


def keyed_hash(secret: bytes, value: str) -> str:
    """HMAC-SHA256 of a value, for matching without keeping the value."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()
