"""The simulator's Versions module: its version list and its version details (checklist §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .transport import CPO_INTERFACES, Reply, is_221_shape

if TYPE_CHECKING:
    from .server import CpoSimulator


def versions_list(sim: CpoSimulator) -> Reply:
    """V-01: one entry per offered version, in the order the simulator was given them."""
    return Reply(
        [{"version": version, "url": sim.version_url(version)} for version in sim.versions]
    )


def version_details(sim: CpoSimulator, version: str) -> Reply:
    """V-02: the CPO's interfaces minus `omit_modules`; `role` exists only from 2.2 on."""
    return Reply({"version": version, "endpoints": published_endpoints(sim, version)})


def published_endpoints(sim: CpoSimulator, version: str) -> list[dict[str, Any]]:
    endpoints: list[dict[str, Any]] = []
    for module, role in CPO_INTERFACES.items():
        if module in sim.omit_modules:
            continue
        endpoint: dict[str, Any] = {"identifier": module}
        if is_221_shape(version):
            endpoint["role"] = role
        endpoint["url"] = f"{sim.version_url(version)}/{module}"
        endpoints.append(endpoint)
    return endpoints
