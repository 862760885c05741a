"""The email that forwards a recipient's request to the controlling account (Art. 28(3)(e)).

Written in the account contact's language. It is the one place outside the controller's
own systems where the recipient's full number appears: the number is the controller's
data, and they need it to find the person in their records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers

import locales
from locales import N_, _
from storage.referral_models import ReferralKind

ASKS = {
    ReferralKind.ACCESS: N_(
        "a copy of the personal data you hold about them and how you use it (GDPR Art. 15)"
    ),
    ReferralKind.ERASURE: N_(
        "erasure of their personal data, including their phone number (GDPR Art. 17)"
    ),
    ReferralKind.OBJECTION: N_(
        "that you stop sending them messages and stop using their number (GDPR Art. 21)"
    ),
    ReferralKind.RECTIFICATION: N_(
        "correction of personal data you hold about them (GDPR Art. 16)"
    ),
}


@dataclass(frozen=True, slots=True)
class Forwarding:
    """What the controller is told about one referral."""

    reference: str
    kind: ReferralKind
    e164: str
    sender_names: tuple[str, ...]
    details: str | None
    received_at: datetime
    ack_url: str
    suppressed: bool


def subject(reference: str) -> str:
    return _("A request from a recipient of your SMS messages ({reference})").format(
        reference=reference
    )


def body(item: Forwarding) -> str:
    """The email text, in the language that is in use (`locales.use`)."""
    number = phonenumbers.format_number(
        phonenumbers.parse(item.e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    words = (
        _("In their own words: “{details}”").format(details=item.details)
        if item.details
        else _("They gave no further details.")
    )
    parts = [
        _("Hello,"),
        _(
            "A person who received SMS messages that your account sent through GatewayAPI has "
            "asked us about their personal data. For these messages you are the data "
            "controller and we are your data processor, so we pass the request on to you "
            "without delay: under GDPR Art. 28(3)(e) and our data processing agreement we "
            "assist you in answering it."
        ),
        "\n".join(
            [
                _("Reference: {reference}").format(reference=item.reference),
                _("The recipient's phone number: {number}").format(number=number),
                _("Sender names on the messages: {names}").format(
                    names=", ".join(item.sender_names) or "—"
                ),
                _("Received: {date}").format(date=locales.format_datetime(item.received_at)),
                _("They ask for: {ask}").format(ask=_(ASKS[item.kind])),
                words,
            ]
        ),
        _(
            "The person proved that they hold this number with a one-time code we sent to it "
            "by SMS. We have not answered the request ourselves: as the controller, you answer "
            "the person, within one month of receiving the request (GDPR Art. 12(3))."
        ),
    ]
    if item.suppressed:
        parts.append(
            _(
                "As you have instructed us, we have stopped further SMS messages from your "
                "account to this number."
            )
        )
    parts += [
        _("Please confirm that you have received this request: {url}").format(url=item.ack_url),
        _("You can also reply to this email quoting the reference {reference}.").format(
            reference=item.reference
        ),
        _("Kind regards,\nThe GatewayAPI privacy team"),
    ]
    return "\n\n".join(parts) + "\n"
