"""`manage.py simulate_cpo` as a process: where manage.py is, and its stdout read a line at a
time with a deadline instead of hanging the run."""

import selectors
import subprocess
import time
from pathlib import Path

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"


def read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """One stdout line, or fail after `timeout` seconds instead of hanging the run."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line from simulate_cpo within {timeout}s: {line!r}"
        if selector.select(remaining):
            chunk = process.stdout.read1(4096)  # type: ignore[attr-defined]
            assert chunk, f"simulate_cpo exited: {process.wait()}"
            line += chunk
    return line
