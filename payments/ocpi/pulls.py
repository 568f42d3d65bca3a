"""How a pulled page of CDRs is stored. Registered with `ocpi_peer.sync` in
`PaymentsConfig.ready()`."""

import simplejson

from ocpi_peer.models import Partner
from ocpi_peer.sync import Pulled
from payments import settlement


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
