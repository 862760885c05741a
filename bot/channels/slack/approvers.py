"""Who may decide privacy requests in Slack: listed user ids and members of one group.

The group's members are read with `usergroups.users.list` and cached briefly, so a
click costs no Web API call most of the time. When Slack cannot be asked, the last
known members are used; with none known, nobody from the group may decide (fail closed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


def parse_ids(raw: str) -> frozenset[str]:
    """`SLACK_APPROVER_IDS`: comma- or space-separated user ids."""
    return frozenset(part.strip() for part in raw.replace(",", " ").split() if part.strip())


class Approvers:
    """Answers "may this Slack user decide?" from the settings and the user group."""

    def __init__(
        self,
        client: AsyncWebClient,
        ids: frozenset[str],
        group: str | None,
        *,
        ttl: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ids = ids
        self.group = group or None
        self.ttl = ttl
        self._monotonic = monotonic
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0

    @property
    def configured(self) -> bool:
        return bool(self.ids or self.group)

    async def allows(self, user_id: str) -> bool:
        if user_id in self.ids:
            return True
        if self.group is None:
            return False
        return user_id in await self._group_members(self.group)

    async def _group_members(self, group: str) -> frozenset[str]:
        fresh = self._monotonic() - self._fetched_at < self.ttl
        if self._members is not None and fresh:
            return self._members
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("could not read the approver group: %s", type(exc).__name__)
            return self._members or frozenset()
        users = response.get("users") or []
        self._members = frozenset(str(u) for u in users)
        self._fetched_at = self._monotonic()
        return self._members
