"""The official OCPI example payloads, from the shared folder beside the repository."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "ocpi-examples"


def example(name: str, version: str = "2.2.1") -> Any:
    path = EXAMPLES / version / name
    if not path.is_file():
        pytest.skip(f"OCPI example {version}/{name} not found (shared/ sits beside the repository)")
    return simplejson.loads(path.read_text(encoding="utf-8"), use_decimal=True)


def example_names(pattern: str, version: str = "2.2.1") -> list[str]:
    return sorted(p.name for p in (EXAMPLES / version).glob(pattern))


def meaningful(value: Any) -> Any:
    """Two OCPI objects mean the same when they differ only in absent versus null or empty
    optional fields and in how a number is written (0.25 or 0.2500)."""
    if isinstance(value, dict):
        return {k: meaningful(v) for k, v in value.items() if v not in (None, "", [])}
    if isinstance(value, list):
        return [meaningful(v) for v in value]
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value).normalize()
    return value
