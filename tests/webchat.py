"""A small web chat client for tests: opens a conversation and talks over real HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


class WebChat:
    def __init__(self, client: TestClient[Any, Any], conversation_id: str, token: str) -> None:
        self.client = client
        self.id = conversation_id
        self.token = token

    @classmethod
    async def open(cls, client: TestClient[Any, Any], **body: Any) -> WebChat:
        response = await client.post("/webchat/api/conversations", json=body or None)
        assert response.status == 201, await response.text()
        data = await response.json()
        return cls(client, data["conversation_id"], data["token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def send(
        self, text: str | None = None, *, button: str | None = None, client_id: str | None = None
    ) -> list[dict[str, Any]]:
        body = {"text": text} if button is None else {"button": button}
        if client_id is not None:
            body["client_id"] = client_id
        response = await self.client.post(
            f"/webchat/api/conversations/{self.id}/messages", json=body, headers=self.headers
        )
        assert response.status == 200, await response.text()
        replies: list[dict[str, Any]] = (await response.json())["replies"]
        return replies

    async def say(self, text: str | None = None, *, button: str | None = None) -> str:
        """Send and return all reply texts joined, for assertions on wording."""
        return "\n".join(reply["text"] for reply in await self.send(text, button=button))

    async def transcript(self, after: int = 0) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/webchat/api/conversations/{self.id}/messages",
            params={"after": str(after)},
            headers=self.headers,
        )
        assert response.status == 200, await response.text()
        messages: list[dict[str, Any]] = (await response.json())["messages"]
        return messages


def button_values(replies: list[dict[str, Any]]) -> list[str]:
    return [button["value"] for reply in replies for button in reply["buttons"]]
