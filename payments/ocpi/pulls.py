"""How a pulled page of CDRs or Sessions is stored. Registered with `ocpi_peer.sync` in
`PaymentsConfig.ready()`."""

import simplejson

from ocpi_peer.models import Partner
from ocpi_peer.sync import Pulled
from payments import charging, settlement


def store_cdrs(partner: Partner, objects: list[Pulled]) -> int:
    """Pulled CDRs (missing ones, T-08) go where pushed ones go: stored once, linked, settled.
    A list carries no bytes per CDR, so a pulled CDR is kept as its canonical JSON."""
    written = 0
    for each in objects:
        canonical = simplejson.dumps(each.raw, sort_keys=True, use_decimal=True)
        try:
            received = settlement.record_cdr(
                partner=partner,
                version=partner.version,
                fields={
                    **each.fields,
                    "country_code": each.country_code,
                    "party_id": each.party_id,
                },
                body=canonical,
                canonical=canonical,
            )
        except settlement.CdrOfAnother:  # another connection's CDR stays with it
            continue
        written += received.created
    return written


def store_sessions(partner: Partner, objects: list[Pulled]) -> int:
    """A pulled Session is stored as a PUT of it would be (the whole object, under its party
    and this connection) when it is newer than ours, and moves its checkout as a push does.
    One another connection holds stays with it."""
    written = 0
    for each in objects:
        fields = dict(each.fields)
        session_id = fields.pop("session_id")
        try:
            outcome = charging.record_session(
                partner=partner,
                country_code=each.country_code,
                party_id=each.party_id,
                session_id=session_id,
                data=fields,
                patch=False,
                raw=each.raw,
                pushed=False,
            )
        except charging.SessionOfAnother:
            continue
        written += outcome != "older"
    return written
