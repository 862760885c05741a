"""The approval policy: which requests an agent must approve, and how many agents.

Erasure and rectification always need an agent (they change or destroy the account;
rectification of a name or address is treated like contact details, as the dialog
promises the customer a person approves the change); objection never does (an
opt-out must take effect at once). The other kinds are configurable.

The policy is read from settings once at start and handed to whatever opens or decides
requests: the runtime's services carry it (`handlers.turn.Services.policy`), and the CLI
builds it from its settings. It also says how many attempts the approved work gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage import keys

ALWAYS = frozenset({"erasure", "rectification"})
NEVER = frozenset({"objection"})
CONFIGURABLE = frozenset({"access", "portability", "restriction", "human_review"})
MAX_ATTEMPTS = 5  # per queued action, before the request fails and agents are alerted


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    required_kinds: frozenset[str] = CONFIGURABLE
    erasure_approvers: int = 1
    max_attempts: int = MAX_ATTEMPTS

    @classmethod
    def from_settings(cls, settings: Any) -> ApprovalPolicy:
        """Read APPROVAL_REQUIRED_KINDS, ERASURE_APPROVERS and WORKER_MAX_ATTEMPTS."""
        raw = settings.approval_required_kinds
        kinds = raw.split(",") if isinstance(raw, str) else list(raw)
        approvers = int(settings.erasure_approvers)
        return cls(
            required_kinds=frozenset(k.strip() for k in kinds if k.strip()) & CONFIGURABLE,
            erasure_approvers=max(1, min(approvers, 5)),
            max_attempts=max(1, int(settings.worker_max_attempts)),
        )

    def needs_agent(self, kind: str) -> bool:
        if kind in ALWAYS:
            return True
        if kind in NEVER:
            return False
        return kind in self.required_kinds

    def approvals_needed(self, kind: str) -> int:
        return self.erasure_approvers if kind == "erasure" else 1


@dataclass(frozen=True, slots=True)
class Agent:
    """A member of the privacy team.

    `name` is what the history shows; `ref` is the keyed hash of the agent's identity,
    computed like a request's `requester_ref`, so an agent who is also the requester
    (the same channel user) is recognised without storing who they are. `key` hashes the
    agent's other identities the same way (`workflow.agent_identities`), so the same
    person is recognised through any of their channels and contacts.
    """

    name: str
    ref: str
    key: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def from_identity(cls, secret: bytes, identity: str, name: str | None = None) -> Agent:
        """`identity` as the requester's is hashed: `slack:U123`, or the CLI's --agent NAME."""
        return cls(name=name or identity, ref=identity_ref(secret, identity), key=secret)


def identity_ref(secret: bytes, identity: str) -> str:
    """HMAC-SHA256 of a channel identity, the same function as `handlers.privacy.requester_ref`."""
    return keys.mac_hex(secret, keys.IDENTITY, identity)
