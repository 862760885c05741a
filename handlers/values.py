"""The new value of a correction, read from what the customer wrote.

"The email on our account is still ben@example.com and it needs to be
ben@bensbikes.co.uk now" names two addresses: the new one is the one introduced as
new ("to", "til", "ny", "should be", "now"...), never the one introduced as current
("still", "stadig", "from", "was"...). For a name or company name, the value is what
follows "to"/"til" up to the end of that wish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from workflow.contacts import Found, find_all

# how alike a fixed typo is to the value it fixes
SIMILAR = 60.0

_NEW = re.compile(
    r"(?:\b(?:(?:ought to|should|must|shall|to)(?: now)? read|(?:det |den |vi )?hedder(?: nu)?|"
    r"(?:it's|its|it is|is) (?:now )?called|"
    r"(?<!pursuant )(?<!according )(?<!due )(?<!subject )(?<!referring )to|"
    r"til|into|ny|nye|nyt|new|now|nu|instead|i stedet|replace with|erstat med|"
    r"skal (?:nu )?(?:være|vaere|vare|hedde)|"
    r"(?:should|shud|shld|must|needs? to|has to|have to|shall) (?:now )?be|is now|er nu|"
    r"(?:correct|right) one is|(?:den|det) rigtige (?:er)?|rigtig(?:e)? er|opdater(?:e)? til|"
    r"update(?:d)? to|change(?:d)? (?:it )?to|ændre(?:s)? (?:den |det )?til|"
    r"ret(?:te)? (?:den |det )?til)\b"
    r"|->|=>|→)",
    re.IGNORECASE,
)
_OLD = re.compile(
    r"\b(?:still|stadig|from|fra|currently|nuværende|nuvaerende|old|gamle|gammel|was|var|"
    r"forkert|wrong|outdated|forældet|instead of|i stedet for)\b",
    re.IGNORECASE,
)
_WINDOW = 40
_END = re.compile(
    r"[.!?](?:\s|$)|\n|(?:\s+(?:and|og|but|men)|\s*,)\s+(?:also|og(?:så)?|så|then|derefter|send|please|pls|can|kan|"
    r"could|i|jeg|stop|slet|delete|sluk|give|giv|make|lav|remove|fjern)\b"
    r"|,\s*(?:and|og|but|men|samt|plus)\s"  # ", and while you're at it": no address goes on
    r"|\s+(?:can|could|kan|will|would) (?:u|you|i|in|du)\b"  # "… BS2 0JA can u update pls"
    r"|\s+(?:not|ikke|instead of|i stedet for|rather than)\s"  # the old value follows
    r"|\s+(?:following|due to|because|since|as of|pursuant|fordi|pga|på grund af)\b"
    r"|\s+(?:please|pls|tak|thanks|thank you|thx|now|nu|asap|hurtigst muligt)\s*[.!]*\s*$",
    re.IGNORECASE,
)
# a comma ends a name ("to Ben Carter, and ..."), not an address ("Mejlgade 23, 8000 Aarhus C")
_COMMA = re.compile(r",\s(?!\d{4}\b)")
_FRAME = re.compile(
    r"^\s*(?:(?:it|it's|its|it is|the new (?:one|name|value) is|new:|ny:|den nye er|det nye er|"
    r"det er|den er|det skal være|it should be|please|pls|gerne|til)\s+)+",
    re.IGNORECASE,
)
_QUOTES = "\"'“”«»„`"


def new_contact(text: str, kind: str | None, hints: Iterable[str]) -> str | None:
    """The email address or phone number introduced as the new one, if any.

    With one candidate and no marker, that one is returned: the handler compares it
    with the value on the account and says so when they are the same.
    """
    found = [f for f in find_all(text, hints) if kind is None or f.contact.kind == kind]
    if not found:
        return None
    scored = [(_newness(text, f), index, f) for index, f in enumerate(found)]
    best = max(scored, key=lambda item: (item[0], item[1]))
    if best[0] < 0 and len(found) == 1:
        return None  # only the current value was named ("my email ben@... is wrong")
    return best[2].contact.value


def _newness(text: str, found: Found) -> int:
    before = text[max(0, found.start - _WINDOW) : found.start]
    new_at = max((m.end() for m in _NEW.finditer(before)), default=-1)
    old_at = max((m.end() for m in _OLD.finditer(before)), default=-1)
    if new_at < 0 and old_at < 0:
        return 0
    return 1 if new_at > old_at else -1


_FIELD_WORD = re.compile(
    r"\b(?:name|navn\w*|company|firma\w*|virksomhed\w*|address|addy|adresse\w*|hedder|called)\b",
    re.IGNORECASE,
)


# the English infinitive marker is no "to" of a new value: "I need to correct my name"
_INFINITIVE = re.compile(
    r"\s*(?:correct|change|update|fix|amend|edit|rectify|modify|get|have|be|make|ask|know|"
    r"see|talk|request|let|tell|say)\b",
    re.IGNORECASE,
)


def new_text_value(text: str, field: str | None = None) -> str | None:
    """The words after the marker that introduces the new value ("... name to X", "... til
    Mejlgade 23, 8000 Aarhus C") up to the end of that wish.

    Each marker after the field's name is tried first, then the others from the last:
    a candidate that begins with the old value ("not Anna Jensen") or with no name at all
    ("grateful if you would ...") is passed over for the next; "my full name, X" gives X.
    """
    markers = [
        m
        for m in _NEW.finditer(text)
        if not (m.group(0).lower() == "to" and _INFINITIVE.match(text, m.end()))
    ]
    named = _FIELD_WORD.search(text)
    after_field = [m for m in markers if named is not None and m.start() >= named.end()]
    others = [m for m in reversed(markers) if m not in after_field]
    keep = field == "address"
    candidates = [
        _tidy(_DESCRIBED.sub("", text[m.end() :].lstrip()), keep_commas=keep)
        for m in [*after_field, *others]
    ]
    found = [c for c in candidates if c and not _NOT_A_VALUE.match(c)]
    if field == "address":  # an address has a number; without one, ask for it
        found = [c for c in found if any(ch.isdigit() for ch in c)]
    names = [c for c in found if c and _NAMED.match(c)]
    chosen = names or found
    return chosen[0] if chosen else None


# a candidate that states the old value or no value: "not Anna Jensen", "grateful if ..."
_NOT_A_VALUE = re.compile(r"^(?:not|ikke|the same|det samme|grateful|glad|happy|pleased)\b", re.I)
# what a value looks like when one was written: a capital, a digit or a quote first
_NAMED = re.compile(r"^[\d\"'“«„A-ZÆØÅ]")
# "my (full) name, Benjamin Carter" / "vores nye navn: X": the description before the value
_DESCRIBED = re.compile(
    r"^(?:(?:my|our|the|mit|vores|det|den)\s+(?:\w+\s+){0,2}?)?"
    r"(?:name|navn(?:et)?|firmanavn(?:et)?|company name|address|addy|adresse(?:n)?)"
    r"\s*(?:,|:|is|er|-)\s*",
    re.IGNORECASE,
)


# where a message names each field, the company's name before a person's ("company name")
_FIELD_MENTIONS = (
    ("company", re.compile(r"\b(?:company(?: name)?|firma\w*|virksomhed\w*)\b", re.I)),
    ("name", re.compile(r"\b(?:(?:full )?name|navn\w*)\b", re.I)),
    ("address", re.compile(r"\b(?:(?:postal )?address|adresse\w*)\b", re.I)),
    ("email", re.compile(r"\b(?:e-?mail\w*|mail\w*)\b", re.I)),
    ("phone", re.compile(r"\b(?:phone|telefon\w*|mobil\w*|tlf\w*|number|nummer\w*)\b", re.I)),
)


# what joins one field's stretch to the next: "… ApS og [mailen til …]"
_JOINING_END = re.compile(
    r"(?:[\s,;]+(?:and|og|samt|plus|also|også|our|vores|my|min|mit|the|den|det)\b)+[\s,;]*$",
    re.IGNORECASE,
)


def field_values(text: str, hints: Iterable[str]) -> list[tuple[str, str]]:
    """Each field the message gives a new value for, in the order named: "My name ought
    to read Benjamin Carter …, and our postal address has changed to 12 Harbour Road…"
    gives the name and the address, each read from its own stretch of the message."""
    taken: list[tuple[int, int]] = []
    mentions: list[tuple[int, str]] = []
    for field, pattern in _FIELD_MENTIONS:
        for match in pattern.finditer(text):
            if any(start <= match.start() < end for start, end in taken):
                continue  # "name" inside "company name"
            taken.append(match.span())
            if all(f != field for _at, f in mentions):
                mentions.append((match.start(), field))
    mentions.sort()
    found: list[tuple[str, str]] = []
    for index, (start, field) in enumerate(mentions):
        end = mentions[index + 1][0] if index + 1 < len(mentions) else len(text)
        stretch = _JOINING_END.sub("", text[start:end])
        if field in ("email", "phone"):
            value = new_contact(stretch, field, hints)
        else:  # a name written as one: "… look forward to your confirmation" is none
            value = new_text_value(stretch, field)
            value = value if value and _NAMED.match(value) else None
        if value:
            found.append((field, value))
    return found


_APOLOGY = re.compile(
    r"^\s*(?:(?:oops|ups|hov|sorry|sry|undskyld|my bad|min fejl|typo|stavefejl|tastefejl|"
    r"slåfejl|slaafejl|(?:jeg )?(?:skrev|har skrevet|stavede|har stavet) (?:det )?forkert|"
    r"i (?:misspelled|mistyped|wrote) it(?: wrong)?)\b[\s,:;.!–-]*)+",
    re.IGNORECASE,
)


def corrected_value(text: str, field: str, pending: str) -> str | None:
    """A fixed new value for `field` written in place of a yes ("oops typo - its Benjamin
    Carter", "sry stavefejl, det skal være X"): introduced as the new one, or what follows
    the apology; either way much like the value it fixes."""
    marked = new_text_value(text, field)
    value = marked if marked and marked != pending else answer_value(_APOLOGY.sub("", text))
    if not value or value == pending or "?" in value:
        return None
    return value if fuzz.ratio(value.casefold(), pending.casefold()) > SIMILAR else None


def answer_value(text: str) -> str | None:
    """A reply to "what is the new X?": the message without its framing words."""
    return _tidy(_FRAME.sub("", text))


def _tidy(rest: str, *, keep_commas: bool = False) -> str | None:
    """The value at the start of `rest`: up to the end of the wish; a comma ends a name
    but not an address ("22 Chain Street, Bristol BS2 8QT")."""
    found = [_END.search(rest)] + ([] if keep_commas else [_COMMA.search(rest)])
    ends = [m.start() for m in found if m is not None]
    value = rest[: min(ends)] if ends else rest
    value = " ".join(value.split()).strip(" :;,-" + _QUOTES)
    value = _TRAILING_NOW.sub("", value)  # "Anna Jensen-Møller now", "X i stedet"
    labelled = value.rpartition(": ")[2]  # "med é: Annas Bageri & Café ApS"
    if labelled != value and _NAMED.match(labelled):
        value = labelled
    return value or None


_TRAILING_NOW = re.compile(
    r"(?:\s+(?:now|nu|instead|i stedet|please|pls|thanks|thx|tak))+$", re.IGNORECASE
)
