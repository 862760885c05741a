"""Answers to questions about the privacy policy, kept as data beside the policy itself.

Each answer names the policy sections it rests on and the facts it states. A test
checks that every section exists in `persondatapolitik.da.txt` (a copy of the company's
policy), that every policy fact appears in it word for word, that facts from the law
(not the policy) are listed in LAW_FACTS, and that the answer states no number,
address or name beyond its facts. Where the policy is out of date (Privacy Shield),
the answer says what the policy says and that it is out of date, and offers a person.

Texts are English msgids; the Danish catalog translates them.
"""

from __future__ import annotations

from dataclasses import dataclass

from locales import N_

# Facts that come from the law, not from the policy text, with their source.
LAW_FACTS = {
    "Datatilsynet": "the Danish data protection authority (GDPR Art. 77)",
    "datatilsynet.dk": "the authority's website",
    "Data Protection Agency": "English name of Datatilsynet",
    "one month": "GDPR Art. 12(3): answer within one month",
    "én måned": "GDPR Art. 12(3), in Danish",
    "two more months": "GDPR Art. 12(3): extension by two further months",
    "to måneder": "GDPR Art. 12(3), in Danish",
    "5 years": "Bookkeeping Act § 10: 5 years from the end of the financial year",
    "5 år": "Bookkeeping Act § 10, in Danish",
    "2020": "Privacy Shield annulled by the EU Court of Justice (C-311/18), 16 July 2020",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """One topic's answer: the text (an msgid), its sections, its facts, follow-up rights."""

    topic: str
    text: str
    sections: tuple[str, ...]
    facts: tuple[str, ...] = ()  # words the policy (or LAW_FACTS) states, as written there
    offers: tuple[str, ...] = ()  # button values offered with the answer


ANSWERS: dict[str, Answer] = {
    a.topic: a
    for a in (
        Answer(
            "collected",
            N_(
                "For your account we hold your email address, phone number and IP address "
                "(and your name and email address from Google if you log in with Google). "
                "For the SMS you send through us we process sender and recipient numbers, "
                "sender names and message content, plus payment details and purchase history."
            ),
            ("ONLINECITY.IO som dataansvarlig", "Google login", "Eksempler på typer"),
            ("E-mailadresse", "Telefonnummer", "IP-adresse", "Google"),
            ("access",),
        ),
        Answer(
            "purposes",
            N_(
                "We use your data to create and run your account, for invoices, newsletters "
                "and reports, and for customer support. Personal data in your message content "
                "is used only when there is a support case about it."
            ),
            ("ONLINECITY.IO som dataansvarlig", "Brug af personoplysninger"),
            (),
            ("objection",),
        ),
        Answer(
            "legal_basis",
            N_(
                "The legal basis is the GDPR, Article 6(1)(b) and (f): what we need to "
                "provide the service you signed up for, and our legitimate interest in "
                "understanding our customers' needs."
            ),
            ("ONLINECITY.IO som dataansvarlig",),
            ("artikel 6, stk. 1, litra b) og f)",),
        ),
        Answer(
            "retention",
            N_(
                "We keep your message data for up to 30 days. After that, the last 4 digits "
                "of the recipient number and the message content are anonymised. Invoices "
                "and other accounting records are kept for 5 years from the end of the "
                "financial year, as the Danish Bookkeeping Act requires."
            ),
            ("Hvor lang tid vi opbevarer dine personoplysninger", "bogføringsloven"),
            ("30 dage", "4 cifre", "5 years"),
            ("erasure",),
        ),
        Answer(
            "sharing",
            N_(
                "We do not sell your data. We share it only where needed: with our "
                "sub-suppliers and partners to deliver the service and support, with group "
                "companies, with authorities where the law requires it or a court orders it, "
                "and with a debt collection agency if invoices stay unpaid for a long time."
            ),
            ("Deling af persondata",),
            (),
            ("access",),
        ),
        Answer(
            "cookies",
            N_(
                "We use cookies for marketing, to remember your login and for ordinary "
                "session handling; no personally identifiable data is stored in them. On "
                "gatewayapi.com we use Google User-ID tracking and Facebook, LinkedIn and "
                "Bing tracking to measure campaigns and for remarketing. You can object to "
                "tracking and profiling here."
            ),
            ("Brug af cookies", "User-ID Tracking", "Facebook tracking/pixel", "Bing tracking"),
            ("gatewayapi.com", "Google", "Facebook", "LinkedIn", "Bing"),
            ("objection",),
        ),
        Answer(
            "google_login",
            N_(
                "If you sign up or log in with Google, we receive your name and email address "
                "from Google, and only because you chose to."
            ),
            ("Google login",),
            ("Google",),
        ),
        Answer(
            "location",
            N_(
                "Our data is kept in Tier 4 data centres in the EU. The policy says we export "
                "no data outside the EU/EEA without Privacy Shield protection, but Privacy "
                "Shield has not been valid since 2020, so that sentence is out of date. If "
                "transfers outside the EU matter to you, a person on our team can answer."
            ),
            ("Dataeksport", "Sikring af persondata"),
            ("Tier 4", "EU", "EØS", "Privacy Shield", "2020"),
            ("handover",),
        ),
        Answer(
            "security",
            N_(
                "We use only Tier 4 data centres in the EU, strict login procedures, "
                "up-to-date firewalls and antivirus, TLS 1.3 encryption on our websites and "
                "confidentiality agreements with staff; only employees who need it for their "
                "work have access to personal data."
            ),
            ("Sikring af persondata",),
            ("Tier 4", "EU", "TLS", "1.3"),
        ),
        Answer(
            "controller",
            N_(
                "OnlineCity.IO ApS (CVR 27364276) is the data controller for your account "
                "data. For the SMS you send through GatewayAPI, you are the controller and we "
                "are your data processor."
            ),
            ("Oplysninger om behandling af personoplysninger", "ONLINECITY.IO som databehandler"),
            ("OnlineCity.IO ApS", "27364276", "GatewayAPI"),
        ),
        Answer(
            "processor",
            N_(
                "For the messages you send through gatewayapi.com we are your data processor, "
                "under the data processing agreement you accepted when you created your "
                "account: we act only on your instructions, to send your SMS and support you."
            ),
            ("ONLINECITY.IO som databehandler",),
            ("gatewayapi.com",),
        ),
        Answer(
            "rights",
            N_(
                "You have the right of access, to rectification, to erasure (unless another "
                "law such as the Bookkeeping Act requires us to keep the data), to "
                "restriction, to data portability, to object, and not to be subject to an "
                "automated decision. I can start any of them here."
            ),
            ("Rettighederne af brugerne", "Opdatering af og indsigt i oplysninger"),
            (),
            ("access", "rectification", "erasure", "objection"),
        ),
        Answer(
            "deadline",
            N_(
                "We answer a request within one month of receiving it. If a request is "
                "complex, we can extend that by two more months, and then we tell you why "
                "within the first month. Most requests are done within a few days."
            ),
            ("Opdatering af og indsigt i oplysninger",),
            ("one month", "two more months"),
            ("status",),
        ),
        Answer(
            "complaint",
            N_(
                "You can complain to us at info@onlinecity.io, and you can always complain to "
                "the Danish Data Protection Agency (Datatilsynet), www.datatilsynet.dk. I can "
                "also pass your case to a person on our team."
            ),
            ("Spørgsmål til persondatapolitikken",),
            ("info@onlinecity.io", "Datatilsynet", "datatilsynet.dk", "Data Protection Agency"),
            ("handover",),
        ),
        Answer(
            "contact",
            N_(
                "You can use your rights here with me, or write to support@gatewayapi.com. "
                "Questions or complaints about the policy go to info@onlinecity.io."
            ),
            ("Opdatering af og indsigt i oplysninger", "Spørgsmål til persondatapolitikken"),
            ("support@gatewayapi.com", "info@onlinecity.io"),
            ("handover",),
        ),
        Answer(
            "message_content",
            N_(
                "Personal data in the content of your messages is used only when there is a "
                "support case about it. The content is anonymised after 30 days."
            ),
            ("Brug af personoplysninger", "Hvor lang tid vi opbevarer dine personoplysninger"),
            ("30 dage",),
        ),
        Answer(
            "automated_decisions",
            N_(
                "We use Google Ads, Facebook Ads and LinkedIn tracking for profiling and to "
                "link traffic to conversions. Our systems can also decide automatically, for "
                "example to block an account or a message or to refuse a payment. You can "
                "object to profiling, and ask a person to review an automated decision."
            ),
            ("Brug af personoplysninger", "Rettighederne af brugerne"),
            ("Google Ads", "Facebook Ads", "LinkedIn"),
            ("human_review", "objection"),
        ),
        Answer(
            "policy_changes",
            N_(
                "We update the policy now and then and announce changes on our website, so "
                "it is worth reading it again from time to time."
            ),
            ("Opdatering af denne persondatapolitik",),
        ),
    )
}

GENERAL = Answer(
    "general",
    N_(
        "Our privacy policy covers what we collect and why, the legal basis, how long we keep "
        "data, who we share it with, cookies and tracking, security and your rights. What "
        "would you like to know?"
    ),
    ("Generelt",),
    (),
    ("handover",),
)


def answer_for(topic: str | None) -> Answer:
    """The answer to a topic; the overview when the topic is unknown."""
    return ANSWERS.get(topic or "", GENERAL)
