"""The OCPI versions we speak, newest first: our preference when a partner offers several."""

from ocpi_peer.versions import v2_1_1, v2_2_1
from ocpi_peer.versions.v2_2_1 import Version

SUPPORTED: dict[str, type[Version]] = {
    "2.2.1": v2_2_1.Version,
    "2.1.1": v2_1_1.Version,
}


class UnsupportedVersion(LookupError):
    pass


def get(number: str) -> type[Version]:
    try:
        return SUPPORTED[number]
    except KeyError:
        raise UnsupportedVersion(f"OCPI {number} is not supported") from None


def best_common(offered: list[str]) -> str | None:
    """The highest version both sides speak (V-05). The deprecated 2.2 is not taken for 2.2.1."""
    return next((number for number in SUPPORTED if number in offered), None)
