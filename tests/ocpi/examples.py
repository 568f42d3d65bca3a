"""The official OCPI example payloads the tests read, carried in the repository (see
tests/ocpi_examples/README.md for their source and licence). A missing one fails the test:
a skip here once hid that a fresh clone checked nothing against the spec's examples."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson

EXAMPLES = Path(__file__).resolve().parents[1] / "ocpi_examples"


def example_path(name: str, version: str = "2.2.1") -> Path:
    path = EXAMPLES / version / name
    if not path.is_file():
        pytest.fail(f"OCPI example {version}/{name} is missing from tests/ocpi_examples/")
    return path


def example(name: str, version: str = "2.2.1") -> Any:
    return simplejson.loads(
        example_path(name, version).read_text(encoding="utf-8"), use_decimal=True
    )


def example_names(pattern: str, version: str = "2.2.1") -> list[str]:
    """Called while collecting (to parametrize), so no match fails the collection."""
    names = sorted(p.name for p in (EXAMPLES / version).glob(pattern))
    if not names:
        pytest.fail(f"no OCPI example {version}/{pattern} in tests/ocpi_examples/")
    return names


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
