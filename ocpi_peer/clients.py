"""Who is calling: the client's address as seen through the proxies we trust, the bucket a rate
limit counts it in, and the `count/window` form the rate limits are set in.

Here, at the bottom of the layers, so that the driver API (payments) and OCPI's token check
(ocpi_peer.transport) count clients alike. Nothing here touches the database: the settings
module validates the rate limits with `parse_rate` at start-up."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# An IPv6 client is limited per /64: one subscriber's line, phone or server usually holds a
# whole /64 (2^64 addresses), so counting single addresses would limit nobody.
IPV6_PREFIX = 64

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(value: str) -> tuple[int, timedelta]:
    """`5/10m` is at most 5 in any 10 minutes (`s`, `m`, `h`; `5/m` is 5 a minute). Raises
    ValueError on anything else, so that a typo stops the start instead of every request."""
    match = _RATE.match(value)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"{value!r} is not a rate limit like 5/10m (count/window: s, m or h)")
    count, amount, unit = match.groups()
    seconds = int(amount or 1) * _UNITS[unit]
    if seconds < 1:
        raise ValueError(f"{value!r} has an empty window")
    return int(count), timedelta(seconds=seconds)


def _address(value: str | None) -> IPAddress | None:
    """One address as a header or the server gives it, or None when it is none: `1.2.3.4`,
    `1.2.3.4:5678` and `[2001:db8::1]:443` (some proxies add the port), IPv4-mapped IPv6 as the
    IPv4 address it is."""
    text = (value or "").strip()
    if not text or len(text) > 64:
        return None
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has at least two colons
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The address of the client behind a request (`request.META`). X-Forwarded-For is believed
    only when the peer (REMOTE_ADDR) is one of TRUSTED_PROXIES, and then only as far as it was
    written by them: read from the right, each trusted proxy's entry is skipped, and the first
    address that is not a trusted proxy is the client. Anything to the left of it was written
    by the client and could be forged. An entry that is no address stops the walk at the last
    trusted proxy, so a malformed header can never make us believe more, only less. Without
    trusted proxies in front, REMOTE_ADDR is the client."""
    peer = _address(meta.get("REMOTE_ADDR"))
    if peer is None:
        return None
    proxies = _networks(_proxies())
    if not _trusted(peer, proxies):
        return str(peer)
    hops = str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")
    client = peer
    for hop in reversed(hops):
        if not hop.strip():
            continue
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)


def request_bucket(meta: Mapping[str, Any]) -> str:
    """The rate limit's bucket (`rate_bucket`) of a request's client (`client_address`), or ""
    when it has no address. Kept for the addresses seen last: a pushing CPO sends every request
    from the same one, and parsing it cost each a twentieth of its CPU."""
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if forwarded is not None and len(forwarded) > 256:  # not worth keeping
        return _bucket.__wrapped__(meta.get("REMOTE_ADDR"), forwarded, _proxies())
    return _bucket(meta.get("REMOTE_ADDR"), forwarded, _proxies())


@lru_cache(maxsize=1024)
def _bucket(remote: str | None, forwarded: str | None, proxies: tuple[str, ...]) -> str:
    address = client_address({"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded})
    return rate_bucket(address) if address else ""


def _proxies() -> tuple[str, ...]:
    return tuple(getattr(settings, "TRUSTED_PROXIES", ()))


def rate_bucket(address: str) -> str:
    """What a rate limit counts a client address as: an IPv4 address itself, an IPv6 address
    as its /64 (`2001:db8:1:2::/64`), an IPv4-mapped IPv6 address as the IPv4 address."""
    parsed = _address(address)
    if parsed is None:
        return address[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False))
    return str(parsed)
