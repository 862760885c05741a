"""What a sender reports when a message could not be sent."""

from __future__ import annotations


class SendError(Exception):
    """Sending failed. `reason` is short and free of personal data (it is logged and
    stored in `last_error`); `permanent` failures are not retried.
    """

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.permanent = permanent
