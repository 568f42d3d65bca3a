"""The simulator's Versions module: its version list and its version details (checklist §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .peer import Peer
from .transport import CPO_INTERFACES, Reply, is_221_shape


def versions_list(peer: Peer) -> Reply:
    """V-01: one entry per offered version, in the order the simulator was given them."""
    return Reply(
        [{"version": version, "url": peer.version_url(version)} for version in peer.versions]
    )


def version_details(
    peer: Peer, version: str, interfaces: Mapping[str, str] = CPO_INTERFACES
) -> Reply:
    """V-02: the CPO's interfaces (a hub adds its own) minus `omit_modules`; `role` exists only
    from 2.2 on."""
    return Reply({"version": version, "endpoints": published_endpoints(peer, version, interfaces)})


def published_endpoints(
    peer: Peer, version: str, interfaces: Mapping[str, str] = CPO_INTERFACES
) -> list[dict[str, Any]]:
    endpoints: list[dict[str, Any]] = []
    for module, role in interfaces.items():
        if module in peer.omit_modules:
            continue
        endpoint: dict[str, Any] = {"identifier": module}
        if is_221_shape(version):
            endpoint["role"] = role
        endpoint["url"] = f"{peer.version_url(version)}/{module}"
        endpoints.append(endpoint)
    return endpoints
