"""Who is asking: the client's address, believing X-Forwarded-For only from our proxies.

Behind a load balancer every request comes from the balancer's address, so per-client
limits would lump all customers together; but anybody can send an X-Forwarded-For
header. So the header is read only when the direct peer is in TRUSTED_PROXIES, and then
from the right: the first address that is not a trusted proxy is the client (what a
client wrote further left is its own claim, not believed).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from bot.config import Network

TRUSTED_PROXIES: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies", tuple)
_ADDRESS = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> _ADDRESS | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: _ADDRESS | None, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(request: web.Request) -> str:
    """The client's IP address as text ("unknown" when the peer has none)."""
    peer = request.remote or "unknown"
    proxies = request.config_dict.get(TRUSTED_PROXIES, ())
    if not proxies or not _trusted(_address(peer), proxies):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getall("X-Forwarded-For", ())
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a proxy of ours would not write that: believe nothing
        if not _trusted(address, proxies):
            return str(address)
    return peer
