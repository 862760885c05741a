"""The data map file's shape, validated with pydantic (and exported as a JSON schema).

A map describes one account store: the account table, and for every other table how
its rows reach an account and, per column, what the data is, why it is held, for how
long and how each right treats it. `storage/datamap/builtin.yaml` describes the
built-in store; `bot.yaml` the bot's own tables; `DATAMAP_PATH` replaces the first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]


class Strategy(StrEnum):
    """How a column is erased (or anonymised by a retention rule)."""

    DELETE = "delete"  # the whole row is deleted
    NULL = "null"  # the value becomes NULL
    MASK_LAST4 = "mask_last4"  # the last 4 characters become XXXX
    HASH = "hash"  # keyed HMAC, for values that must still match
    REDACT = "redact"  # text replaced by a fixed marker
    LEGAL_HOLD = "legal_hold"  # kept, unchanged, until the hold date
    REVOKE = "revoke"  # a credential hash replaced by a hash of random bytes
    WITHDRAW = "withdraw"  # a consent flag becomes false
    RESET = "reset"  # a JSON value emptied to {}
    KEEP = "keep"  # not personal once unlinked; kept for the service


class Role(StrEnum):
    CONTROLLER = "controller"
    PROCESSOR = "processor"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = str | dict[str, str]  # one English text (translated by the catalog) or {language: text}


class Category(Strict):
    """A category of personal data as the customer reads it (Art. 15(1)(b))."""

    label: Text
    retention: Text  # may say {days} (from `period_of`'s rule) and {years} (legal hold)
    period_of: Name | None = None  # the table whose first retention rule gives {days}
    role: Role = Role.CONTROLLER


class Purpose(Strict):
    text: Text
    basis: Key  # a key of `legal_bases`


class Recipient(Strict):
    """Who receives which categories (Art. 13(1)(e), Art. 19)."""

    name: str
    description: Text
    categories: list[Key]
    contact: str | None = None  # where Art. 19 notices go (email); none: not notified


class Rectify(Strict):
    """A column the customer may have corrected (Art. 16)."""

    field: Key  # the name the conversation uses: email, phone, name, company
    label: Text
    kind: Literal["email", "phone", "text"] = "text"
    max_length: int = Field(default=200, ge=1, le=10_000)
    where: dict[Name, str] = Field(default_factory=dict)  # which rows hold it (kind = mail)


class Column(Strict):
    category: Key | None = None  # None: not personal on its own
    purpose: Key | None = None
    role: Role | None = None
    provided: bool = False  # given by the customer or made by their use (portability)
    erasure: Strategy = Strategy.KEEP
    anonymise: Strategy | None = None  # what an `anonymise` retention rule does to it
    # the account's own contact values: emails, phone numbers, or both in one column
    identifier: Literal["email", "phone", "contact"] | None = None
    rectify: Rectify | None = None
    export: bool = True  # False: never in an export (a credential hash)


class Parent(Strict):
    """The row's columns point at a row of `table` that reaches the account."""

    parent: Name
    join: dict[Name, Name]  # this table's column -> the parent's column


class Child(Strict):
    """Rows of `child` that reach the account (by `via`, or by their own reach) point here."""

    child: Name
    join: dict[Name, Name]  # the child's column -> this table's column
    via: ReachSpec | None = None


class OwnColumn(Strict):
    column: Name  # equals the account's key


class Mentions(Strict):
    mentions: list[Name]  # text columns holding one of the account's contacts


class EqualsContact(Strict):
    equals_contact: Name  # a column whose value is one of the account's contacts


Reach = OwnColumn | Parent | Child | Mentions | EqualsContact
ReachSpec = Reach | list[Reach]  # a list: a row reaches the account by any of them
Child.model_rebuild()


class Rule(Strict):
    """A retention rule: what happens to rows `after_days` after `counted_from`."""

    name: Key  # the sweep's category, e.g. sms_messages_anonymised
    action: Literal["anonymise", "delete", "null", "reset"]
    after_days: int = Field(ge=0, le=36_500)
    counted_from: Name
    or_when_set: Name | None = None  # also when this column is set (a used code)
    unless_status: dict[Name, list[str]] = Field(default_factory=dict)  # never these values
    columns: list[Name] = Field(default_factory=list)  # for null/reset; anonymise: all mapped
    mark: Name | None = None  # set to now when done; rows with it set are done
    keep_when: list[Key] = Field(default_factory=list)  # named guards (open support case...)
    guarded_column: Name | None = None  # the conversation column the guards name; default key
    incremental: bool = False  # rows never come back into scope: look only since last sweep
    bump: Name | None = None  # a version column to increment (optimistic locking)


class LegalHold(Strict):
    """Rows kept under a law (the Bookkeeping Act) after erasure, until a date."""

    years: int = Field(ge=1, le=50)
    counted_from: Name  # the date the financial year is taken from
    until_column: Name  # where the hold's end date is written
    law: Text


class Lookup(Strict):
    """An index a lookup of the bot needs: `datamap check` warns when the store lacks it."""

    columns: list[Name] = Field(min_length=1)  # an index must start with these, in order
    used_by: str  # what would read the whole table without it (for the operator)


class Table(Strict):
    database: Literal["store", "bot"] = "store"
    key: list[Name] = Field(default_factory=lambda: ["id"], min_length=1)
    reach: ReachSpec | None = None
    order_by: list[Name] = Field(default_factory=list)  # default: the key
    export_as: Name | None = None  # the file name in an export; default: the table
    exported: bool = True
    pick_first: list[str] = Field(default_factory=list)  # rectification: "-is_primary", "id"
    defaults: Column = Column()  # purpose/role for every column that names a category
    columns: dict[Name, Column]
    erase_set: dict[Name, str] = Field(
        default_factory=dict
    )  # extra values: now|now_if_null|+1|literal
    legal_hold: LegalHold | None = None
    retention: list[Rule] = Field(default_factory=list)
    indexes: list[Lookup] = Field(default_factory=list)


class Account(Strict):
    """The account table: the root every reach ends at."""

    table: Name
    key: Name = "id"
    active_when: dict[Name, str] = Field(default_factory=dict)  # who may authenticate
    close: dict[Name, str] = Field(default_factory=dict)  # set when erased: now|literal
    restricted: Name | None = None  # Art. 18 flag column
    restricted_at: Name | None = None


class AutomatedDecision(Strict):
    """A decision made by automated means that the customer can ask a person to review."""

    text: Text


class DataMapFile(Strict):
    version: Literal[1] = 1
    controller: str = ""
    account: Account | None = None
    legal_bases: dict[Key, Text] = Field(default_factory=dict)
    purposes: dict[Key, Purpose] = Field(default_factory=dict)
    categories: dict[Key, Category] = Field(default_factory=dict)
    recipients: dict[Key, Recipient] = Field(default_factory=dict)
    automated_decisions: list[AutomatedDecision] = Field(default_factory=list)
    tables: dict[Name, Table] = Field(default_factory=dict)
