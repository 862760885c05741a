"""Right of access (Art. 15): a ZIP with a copy of everything held about the account.

Every category of the data map that concerns the account becomes a JSON and a CSV
file; `summary.txt` gives the Art. 15(1) facts (purposes, categories, recipients,
retention, source, rights, automated decisions) in the customer's language, taken
from the data map and the privacy policy; `README.txt` explains the files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from locales import _, format_date, ngettext, use
from storage import datamap
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Conversation,
    Invoice,
    InvoiceLine,
    OutboxMessage,
    Payment,
    Person,
    SmsMessage,
    TranscriptMessage,
    VerificationCode,
)
from workflow.executors import ActionContext, ExecutorResult
from workflow.executors.export_zip import Section, export

if TYPE_CHECKING:
    from workflow.executors.export_zip import AnySelect

CONTROLLER = "OnlineCity.IO ApS (CVR 27364276), gatewayapi.com"
SUPPORT_EMAIL = "support@gatewayapi.com"


def account_rows(account_id: int) -> AnySelect:
    return select(
        Account.id.label("account_id"),
        Account.company,
        Account.status,
        Account.restricted,
        Account.google_subject,
        Account.created_at,
        Account.closed_at,
    ).where(Account.id == account_id)


def people_rows(account_id: int) -> AnySelect:
    return (
        select(
            Person.id,
            Person.name,
            Person.email,
            Person.phone,
            Person.preferred_language,
            Person.is_primary,
            Person.created_at,
        )
        .where(Person.account_id == account_id)
        .order_by(Person.id)
    )


def api_key_rows(account_id: int) -> AnySelect:
    """Metadata only: the key hash is a credential, never exported."""
    return (
        select(
            ApiKey.label, ApiKey.prefix, ApiKey.created_at, ApiKey.last_used_at, ApiKey.revoked_at
        )
        .where(ApiKey.account_id == account_id)
        .order_by(ApiKey.id)
    )


def sms_rows(account_id: int) -> AnySelect:
    return (
        select(
            SmsMessage.id,
            SmsMessage.sent_at,
            SmsMessage.sender_number,
            SmsMessage.sender_name,
            SmsMessage.recipient,
            SmsMessage.content,
            SmsMessage.status,
            SmsMessage.anonymised_at,
        )
        .where(SmsMessage.account_id == account_id)
        .order_by(SmsMessage.id)
    )


def consent_rows(account_id: int) -> AnySelect:
    return (
        select(Consent.purpose, Consent.granted, Consent.source, Consent.updated_at)
        .where(Consent.account_id == account_id)
        .order_by(Consent.purpose)
    )


def _access_log_rows(account_id: int) -> AnySelect:
    return (
        select(
            AccessLogEntry.at,
            AccessLogEntry.kind,
            AccessLogEntry.ip,
            AccessLogEntry.location,
            AccessLogEntry.user_agent,
        )
        .where(AccessLogEntry.account_id == account_id)
        .order_by(AccessLogEntry.id)
    )


def _invoice_rows(account_id: int) -> AnySelect:
    return (
        select(
            Invoice.number,
            Invoice.issued_at,
            Invoice.billing_name,
            Invoice.billing_address,
            Invoice.vat_number,
            Invoice.billing_email,
            Invoice.currency,
            Invoice.total,
            Invoice.legal_hold_until,
        )
        .where(Invoice.account_id == account_id)
        .order_by(Invoice.issued_at, Invoice.id)
    )


def _invoice_line_rows(account_id: int) -> AnySelect:
    return (
        select(
            Invoice.number.label("invoice_number"),
            InvoiceLine.description,
            InvoiceLine.quantity,
            InvoiceLine.unit_price,
            InvoiceLine.amount,
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.account_id == account_id)
        .order_by(Invoice.issued_at, InvoiceLine.id)
    )


def _payment_rows(account_id: int) -> AnySelect:
    return (
        select(
            Invoice.number.label("invoice_number"),
            Payment.paid_at,
            Payment.amount,
            Payment.method,
            Payment.card_last4,
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.account_id == account_id)
        .order_by(Payment.paid_at, Payment.id)
    )


def _transcript_rows(account_id: int) -> AnySelect:
    return (
        select(
            Conversation.id.label("conversation"),
            Conversation.channel,
            TranscriptMessage.seq,
            TranscriptMessage.created_at,
            TranscriptMessage.sender,
            TranscriptMessage.text,
        )
        .join(Conversation, Conversation.id == TranscriptMessage.conversation_id)
        .where(Conversation.account_id == account_id)
        .order_by(Conversation.created_at, Conversation.id, TranscriptMessage.seq)
    )


def _verification_rows(account_id: int) -> AnySelect:
    return (
        select(
            VerificationCode.purpose,
            VerificationCode.channel,
            VerificationCode.created_at,
            VerificationCode.expires_at,
            VerificationCode.used_at,
        )
        .where(VerificationCode.account_id == account_id)
        .order_by(VerificationCode.id)
    )


def _outbox_rows(account_id: int) -> AnySelect:
    contacts = (
        select(Person.email)
        .where(Person.account_id == account_id)
        .union(select(Person.phone).where(Person.account_id == account_id))
    )
    return (
        select(
            OutboxMessage.created_at,
            OutboxMessage.channel,
            OutboxMessage.to,
            OutboxMessage.subject,
            OutboxMessage.text,
            OutboxMessage.status,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.to.in_(contacts.scalar_subquery()))
        .order_by(OutboxMessage.id)
    )


PROFILE = Section("account", ("identity",), account_rows)
PEOPLE = Section("people", ("identity", "contact"), people_rows)
API_KEYS = Section("api_keys", ("credentials",), api_key_rows)
SMS = Section("sms_messages", ("message_content", "recipient"), sms_rows)
CONSENTS = Section("consents", ("consent",), consent_rows)

SECTIONS = (
    PROFILE,
    PEOPLE,
    API_KEYS,
    Section("access_log", ("network",), _access_log_rows),
    SMS,
    Section("invoices", ("billing", "contact"), _invoice_rows),
    Section("invoice_lines", ("billing",), _invoice_line_rows),
    Section("payments", ("payment",), _payment_rows),
    CONSENTS,
    Section("chat_transcripts", ("chat",), _transcript_rows),
    Section("verification_codes", ("authentication",), _verification_rows),
    Section("messages_to_you", ("authentication",), _outbox_rows),
)


def _bullets(items: list[str]) -> list[str]:
    return [f"  - {item}" for item in items]


def _recipients() -> list[str]:
    return [
        _(
            "Our subcontractors and partners, when needed to deliver and support the service "
            "(e.g. data centres in the EU and the telecom operators that deliver your SMS)."
        ),
        _("Companies in our group, when needed for a necessary purpose."),
        _("Public authorities, only where the law requires it or a court orders it."),
        _("A debt collection agency, if invoices remain unpaid for a long time."),
        _(
            "Google, Facebook (Meta), LinkedIn and Bing receive tracking data from our website "
            "for marketing, when you have consented; we have no access to their data about you."
        ),
    ]


def _rights() -> list[str]:
    return [
        _("Access: a copy of your data (this export)."),
        _("Rectification: correcting wrong or out-of-date data."),
        _(
            "Erasure: deleting your data, unless another law requires us to keep it "
            "(e.g. the Danish Bookkeeping Act for invoices)."
        ),
        _("Restriction: limiting what we do with your data."),
        _("Portability: your data in a machine-readable format."),
        _(
            "Objection: to marketing, tracking and profiling, and to processing we base on our "
            "legitimate interests."
        ),
        _(
            "Not being subject to a decision based solely on automated processing, "
            "including profiling."
        ),
    ]


async def _facts(session: AsyncSession, account_id: int) -> tuple[bool, dict[str, bool]]:
    """Whether Google login is used, and the current consents."""
    google = await session.scalar(select(Account.google_subject).where(Account.id == account_id))
    consents = {
        purpose: bool(granted)
        for purpose, granted in (
            await session.execute(
                select(Consent.purpose, Consent.granted).where(Consent.account_id == account_id)
            )
        ).all()
    }
    return google is not None, consents


def summary_text(
    ctx: ActionContext, rows: dict[str, int], google: bool, consents: dict[str, bool]
) -> str:
    """The Art. 15(1) facts, in the current language."""
    profiling = consents.get("profiling", False) or consents.get("tracking", False)
    present = {c for s in SECTIONS if rows.get(s.name) for c in s.categories}
    lines = [
        _("Your personal data: answer to your access request {reference}").format(
            reference=ctx.reference
        ),
        _("Prepared on {date} by {controller}.").format(
            date=format_date(ctx.now()), controller=CONTROLLER
        ),
        "",
        _("1. Why we process your data (purposes)"),
        *_bullets([_(p) for p in datamap.purposes()]),
        _(
            "Legal basis: the contract with you (GDPR Art. 6(1)(b)), our legitimate interests "
            "(Art. 6(1)(f)), legal obligations such as the Bookkeeping Act (Art. 6(1)(c)) and, "
            "for marketing, your consent (Art. 6(1)(a))."
        ),
        _(
            "For the SMS messages you send through us we are data processor on your behalf, "
            "under the data processing agreement; you decide what they are used for."
        ),
        "",
        _("2. The categories of data we hold about you"),
        *_bullets(
            [
                _("{category}, in the files: {files}").format(
                    category=_(c.label),
                    files=", ".join(
                        f"{s.name}.json" for s in SECTIONS if c.key in s.categories and rows[s.name]
                    ),
                )
                for c in datamap.categories()
                if c.key in present
            ]
        ),
        "",
        _("3. Who receives your data (recipients)"),
        *_bullets(_recipients()),
        "",
        _("4. How long we keep your data"),
        *_bullets(
            [f"{_(c.label)}: {_(c.retention)}" for c in datamap.categories() if c.key in present]
        ),
        "",
        _("5. Where the data comes from"),
        *_bullets(
            [
                _("From you, when you created and used your account."),
                _(
                    "IP address and coarse location are logged when you call the API or chat "
                    "with us."
                ),
            ]
            + (
                [_("Your name and email address came from Google, as you log in with Google.")]
                if google
                else []
            )
        ),
        _("Your data is stored in data centres in the EU."),
        "",
        _("6. Automated decisions and profiling"),
        _(
            "We make no decisions about you based solely on automated processing that have "
            "legal or similarly significant effects."
        ),
        _(
            "We use Google Ads, Facebook Ads and LinkedIn tracking for profiling for marketing "
            "and to link website traffic with conversions, when you have consented."
        )
        + " "
        + (
            _("You have currently consented to tracking or profiling.")
            if profiling
            else _("You have not consented to tracking or profiling.")
        ),
        "",
        _("7. Your rights"),
        *_bullets(_rights()),
        _("To use a right, write to us in the chat or at {email}.").format(email=SUPPORT_EMAIL),
        "",
        _(
            "You can complain to the Danish Data Protection Agency (Datatilsynet), "
            "www.datatilsynet.dk."
        ),
    ]
    return "\n".join(lines) + "\n"


def readme_text(ctx: ActionContext, rows: dict[str, int]) -> str:
    lines = [
        _("This archive holds a copy of the personal data in your account ({reference}).").format(
            reference=ctx.reference
        ),
        _("Each kind of data is in two files with the same content: JSON and CSV (UTF-8)."),
        _("summary.txt explains why we hold the data, for how long, and your rights."),
        "",
        *(
            f"{name}.json / {name}.csv: " + ngettext("{n} row", "{n} rows", count).format(n=count)
            for name, count in rows.items()
        ),
    ]
    return "\n".join(lines) + "\n"


async def run(ctx: ActionContext) -> ExecutorResult:
    async def documents(session: AsyncSession, rows: dict[str, int]) -> dict[str, str]:
        google, consents = await _facts(session, ctx.account_id)
        with use(ctx.language):
            return {
                "README.txt": readme_text(ctx, rows),
                "summary.txt": summary_text(ctx, rows, google, consents),
            }

    return await export(ctx, "access", SECTIONS, documents)
