"""Why a conversation's transcript or dialog state outlives its retention period.

A retention rule in the data map names these guards (`keep_when`); each gives the
conversations to keep. One function per reason, so replacing how a support case is
recorded changes one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select

from storage.privacy_models import PrivacyRequest
from workflow import lifecycle, support_cases


def support_case() -> Select[Any]:
    """Conversations with an open support case (a hand-over to a person, a complaint)."""
    return support_cases.open_case_conversations()


def open_request() -> Select[Any]:
    """Conversations a privacy request that is not yet closed came from."""
    return select(PrivacyRequest.conversation_id).where(
        PrivacyRequest.conversation_id.is_not(None),  # NOT IN over a NULL matches nothing
        PrivacyRequest.status.in_(sorted(lifecycle.OPEN)),
    )


GUARDS: dict[str, Callable[[], Select[Any]]] = {
    "support_case": support_case,
    "open_request": open_request,
}
