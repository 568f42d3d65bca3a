"""A CPO's OCPI backend, simulated over real HTTP, for tests and the demo (`simulate_cpo`).

Independent of the product on purpose: nothing here imports `ocpi_peer` outside this package,
`stations` or `payments`.
"""

from .server import CpoSimulator, SimulatorState
from .transport import Recorded, SimulatorError, Status

__all__ = ["CpoSimulator", "Recorded", "SimulatorError", "SimulatorState", "Status"]
