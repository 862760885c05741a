"""Demo accounts that the quick start, the tests and later features rely on.

Seeding is idempotent: an account whose primary email already exists is left alone,
so running it twice gives the same counts. The data is generated from a fixed random
seed, so every machine gets the same messages and invoices.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap import ANONYMISED, mask_last4, sms_retention_days
from storage.models import (
    AccessLogEntry,
    Account,
    ApiKey,
    Consent,
    Invoice,
    InvoiceLine,
    Payment,
    Person,
    SmsMessage,
)
from storage.types import utcnow


@dataclass(frozen=True)
class DemoAccount:
    email: str
    phone: str
    name: str
    language: str
    company: str
    sender_name: str  # what recipients see as the sender of the account's messages
    sms_count: int
    invoice_count: int
    marketing: bool
    vat_number: str
    address: str
    currency: str


DEMO_ACCOUNTS = (
    DemoAccount(
        email="anna@example.dk",
        phone="+4520000001",
        name="Anna Jensen",
        language="da",
        company="Anna's Bageri ApS",
        sender_name="AnnasBageri",
        sms_count=2000,
        invoice_count=12,
        marketing=True,
        vat_number="DK12345678",
        address="Bagergade 1, 8000 Aarhus C",
        currency="DKK",
    ),
    DemoAccount(
        email="ben@example.com",
        phone="+447700900001",
        name="Ben Carter",
        language="en",
        company="Ben's Bikes Ltd",
        sender_name="BensBikes",
        sms_count=300,
        invoice_count=3,
        marketing=False,
        vat_number="GB123456789",
        address="1 Spoke Lane, Bristol BS1 4DJ",
        currency="GBP",
    ),
)

_TEXTS_DA = (
    "Din tid hos frisøren er bekræftet til {d}.",
    "Din pakke er klar til afhentning. Kode: {n}",
    "Tak for din ordre! Vi sender i morgen.",
    "Påmindelse: Din aftale er i morgen kl. {h}.",
)
_TEXTS_EN = (
    "Your booking is confirmed for {d}.",
    "Your parcel is ready for collection. Code: {n}",
    "Thanks for your order! We ship tomorrow.",
    "Reminder: your appointment is tomorrow at {h}.",
)


async def seed(session: AsyncSession, *, now: datetime | None = None) -> dict[str, int]:
    """Create the demo accounts that do not exist yet; return how many were created."""
    now = now or utcnow()
    created = 0
    for spec in DEMO_ACCOUNTS:
        exists = await session.scalar(select(Person.id).where(Person.email == spec.email))
        if exists is None:
            await _create(session, spec, now)
            created += 1
    return {"created": created, "existing": len(DEMO_ACCOUNTS) - created}


async def _create(session: AsyncSession, spec: DemoAccount, now: datetime) -> None:
    rng = random.Random(spec.email)  # noqa: S311 - demo data, not security
    account = Account(company=spec.company, created_at=now - timedelta(days=800))
    session.add(account)
    await session.flush()
    session.add(
        Person(
            account_id=account.id,
            name=spec.name,
            email=spec.email,
            phone=spec.phone,
            preferred_language=spec.language,
            created_at=account.created_at,
        )
    )
    for index, label in enumerate(("production", "staging")):
        secret = f"demo-{spec.email}-{index}"
        session.add(
            ApiKey(
                account_id=account.id,
                label=label,
                prefix=hashlib.sha256(secret.encode()).hexdigest()[:8],
                key_hash=hashlib.sha256(secret.encode()).hexdigest(),
                created_at=now - timedelta(days=400 - index * 100),
                last_used_at=now - timedelta(hours=index + 1),
            )
        )
    for purpose, granted in (
        ("marketing_email", spec.marketing),
        ("tracking", True),
        ("profiling", spec.marketing),
    ):
        session.add(
            Consent(
                account_id=account.id,
                purpose=purpose,
                granted=granted,
                source="signup",
                updated_at=now - timedelta(days=700),
            )
        )
    await session.execute(
        insert(AccessLogEntry),
        [
            {
                "account_id": account.id,
                "at": now - timedelta(hours=rng.randint(1, 24 * 90)),
                "ip": f"192.0.2.{rng.randint(1, 254)}",
                "location": "Aarhus, DK" if spec.language == "da" else "Bristol, GB",
                "kind": rng.choice(("api", "web", "chat")),
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            }
            for _ in range(50)
        ],
    )
    await _messages(session, account.id, spec, rng, now)
    await _invoices(session, account.id, spec, rng, now)


async def _messages(
    session: AsyncSession, account_id: int, spec: DemoAccount, rng: random.Random, now: datetime
) -> None:
    texts = _TEXTS_DA if spec.language == "da" else _TEXTS_EN
    prefix = "+45" if spec.language == "da" else "+447700"
    rows = []
    for _ in range(spec.sms_count):
        sent = now - timedelta(seconds=rng.randint(60, 90 * 24 * 3600))
        rows.append(
            {
                "account_id": account_id,
                "sender_number": spec.phone,
                "sender_name": spec.sender_name,
                "recipient": prefix
                + "".join(str(rng.randint(0, 9)) for _ in range(8 if spec.language == "da" else 6)),
                "content": rng.choice(texts).format(
                    d=sent.date().isoformat(),
                    n=rng.randint(1000, 9999),
                    h=f"{rng.randint(8, 17)}:00",
                ),
                "status": rng.choice(("delivered", "delivered", "delivered", "failed")),
                "sent_at": sent,
            }
        )
    _address_demo_recipients(rows, spec, now)
    for start in range(0, len(rows), 1000):
        await session.execute(insert(SmsMessage), rows[start : start + 1000])


async def _invoices(
    session: AsyncSession, account_id: int, spec: DemoAccount, rng: random.Random, now: datetime
) -> None:
    for month in range(spec.invoice_count):
        issued = (now - timedelta(days=30 * (month + 1))).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        quantity = rng.randint(100, 2000)
        unit = Decimal("0.25") if spec.currency == "DKK" else Decimal("0.035")
        amount = (unit * quantity).quantize(Decimal("0.01"))
        invoice = Invoice(
            account_id=account_id,
            number=f"{spec.currency[:2]}-{issued:%Y%m}-{account_id:04d}-{month:02d}",
            issued_at=issued,
            billing_name=spec.company,
            billing_address=spec.address,
            vat_number=spec.vat_number,
            billing_email=spec.email,
            currency=spec.currency,
            total=amount,
        )
        session.add(invoice)
        await session.flush()
        session.add(
            InvoiceLine(
                invoice_id=invoice.id,
                description="SMS credits",
                quantity=quantity,
                unit_price=unit,
                amount=amount,
            )
        )
        session.add(
            Payment(
                invoice_id=invoice.id,
                paid_at=issued + timedelta(days=rng.randint(1, 10)),
                amount=amount,
                method="card",
                card_last4=f"{rng.randint(0, 9999):04d}",
            )
        )


# --- history: small accounts whose past requests `workflow.demo_history` replays -------

HISTORY_COMPANIES = (
    ("Nordlys Tandklinik ApS", "da"),
    ("Havnens Fiskehus", "da"),
    ("Kvist & Krone Frisør", "da"),
    ("Solsikke Børnehave", "da"),
    ("Aarhus Cykeludlejning", "da"),
    ("Fjordens Vinhandel", "da"),
    ("Lindholm Revision ApS", "da"),
    ("Bakkehuset Kro", "da"),
    ("Ravn Ejendomme", "da"),
    ("Skovly Dyreklinik", "da"),
    ("Harbour Lights Dental", "en"),
    ("Greenway Couriers Ltd", "en"),
    ("Oak & Ivy Florists", "en"),
    ("Bright Path Tutoring", "en"),
    ("Kestrel Car Hire", "en"),
    ("Meadow Lane Vets", "en"),
)


def history_email(index: int) -> str:
    return f"history{index:02d}@example.{'dk' if HISTORY_COMPANIES[index][1] == 'da' else 'com'}"


async def seed_history_accounts(session: AsyncSession, *, now: datetime) -> list[int]:
    """The history accounts (one person each, no messages), created once; their ids."""
    ids: list[int] = []
    for index, (company, language) in enumerate(HISTORY_COMPANIES):
        email = history_email(index)
        found = await session.scalar(select(Person.account_id).where(Person.email == email))
        if found is None:
            account = Account(company=company, created_at=now - timedelta(days=900))
            session.add(account)
            await session.flush()
            session.add(
                Person(
                    account_id=account.id,
                    name=f"{company.split()[0]} Kontakt" if language == "da" else "Contact",
                    email=email,
                    phone=f"+45300000{index:02d}"
                    if language == "da"
                    else f"+4477009001{index:02d}",
                    preferred_language=language,
                    created_at=account.created_at,
                )
            )
            found = account.id
        ids.append(int(found))
    return ids


# --- SMS recipients (the processor's side: workflow.referrals) ------------------------


@dataclass(frozen=True)
class DemoRecipient:
    """A person who received messages from a demo account, for the recipient walk-through."""

    number: str
    sender_email: str  # the demo account that sent the messages
    days_ago: tuple[int, ...]  # one message per entry
    anonymised: bool = False  # older than the retention window, left as the sweep leaves them


DEMO_RECIPIENTS = (
    # messages from both accounts within 30 days: two controllers to forward to
    DemoRecipient("+4531000003", "anna@example.dk", (2, 9, 16)),
    DemoRecipient("+4531000003", "ben@example.com", (4, 21)),
    # messages from Ben's account only
    DemoRecipient("+447700900555", "ben@example.com", (1, 6)),
    # only old messages, anonymised by the retention sweep: nothing can be traced
    DemoRecipient("+4531000004", "anna@example.dk", (45, 60, 75), anonymised=True),
)


def _address_demo_recipients(
    rows: list[dict[str, object]], spec: DemoAccount, now: datetime
) -> None:
    """Turn the account's first generated messages into the demo recipients' messages.

    They replace generated rows rather than add to them, so the account keeps its
    documented message count and the random data after them stays as it was.
    """
    texts = _TEXTS_DA if spec.language == "da" else _TEXTS_EN
    mine = [r for r in DEMO_RECIPIENTS if r.sender_email == spec.email]
    index = 0
    for recipient in mine:
        for days in recipient.days_ago:
            sent = (now - timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
            row = rows[index]
            index += 1
            row["sent_at"] = sent
            row["status"] = "delivered"
            row["recipient"] = recipient.number
            row["content"] = texts[index % len(texts)].format(
                d=sent.date().isoformat(), n=1000 + index, h="10:00"
            )
            if recipient.anonymised:
                row["recipient"] = mask_last4(recipient.number)
                row["content"] = ANONYMISED
                row["anonymised_at"] = sent + timedelta(days=sms_retention_days())
