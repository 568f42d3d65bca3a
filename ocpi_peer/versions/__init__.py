"""The OCPI versions we speak, newest first: our preference when a partner offers several."""

from typing import Any

from rest_framework import serializers

from ocpi_peer.transport import same_id
from ocpi_peer.versions import v2_1_1, v2_2_1, v2_3_0
from ocpi_peer.versions.v2_2_1 import Version

SUPPORTED: dict[str, type[Version]] = {
    "2.3.0": v2_3_0.Version,
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


Owner = tuple[str, str]  # (country_code, party_id)
NOBODY: Owner = ("", "")


def read_owned(
    spec: type[Version],
    serializer: type[serializers.Serializer],
    data: Any,
    *,
    party: Owner | None = None,
    otherwise: Owner = NOBODY,
) -> tuple[Owner, dict[str, Any]]:
    """Validate an object a party owns into its owner and its fields (without the owner's).

    Objects carry their party in 2.2.1 and not in 2.1.1, the one place this is decided. `party`
    is the URL's: a body that names another party is refused (T-17) and the URL's is the owner.
    `otherwise` owns an object that names none and comes with no URL party (a 2.1.1 CDR or
    pulled object: the connection's party); NOBODY, a party no partner has, when none can."""
    fields = dict(spec.read(serializer, data))
    named = (fields.pop("country_code", None), fields.pop("party_id", None))
    if not spec.objects_carry_party:
        return party or otherwise, fields
    if party is None:
        return (str(named[0]), str(named[1])), fields
    same_id(party[0], named[0], "country_code")
    same_id(party[1], named[1], "party_id")
    return party, fields
