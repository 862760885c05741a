"""The aiohttp application: web chat, health checks, and the channel webhooks."""
