"""A CPO's OCPI backend, simulated over real HTTP, for tests and the demo (`simulate_cpo`).

It lives beside the product, not in it: nothing here imports `config`, `ocpi_peer`, `stations` or
`payments`, and the wheel leaves it out. It is a small Django app only so that a checkout's
`manage.py` has its `simulate_cpo` command; nothing else in it needs Django.

Django imports this package whenever it starts (the app is installed in a checkout), so the
simulator itself is imported on first use of a name below, not here: `manage.py migrate` and
the web server do not load it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hub import HubSimulator
    from .peer import SimulatorState
    from .server import CpoSimulator
    from .transport import Recorded, SimulatorError, Status

__all__ = ["CpoSimulator", "HubSimulator", "Recorded", "SimulatorError", "SimulatorState", "Status"]

_MODULE_OF = {
    "CpoSimulator": "server",
    "HubSimulator": "hub",
    "Recorded": "transport",
    "SimulatorError": "transport",
    "SimulatorState": "peer",
    "Status": "transport",
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
