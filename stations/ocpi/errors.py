"""What each station-data exception answers over OCPI: status and HTTP code (T-13, T-14)."""

from ocpi_peer.transport import DomainErrors, Status
from stations import services

DOMAIN_ERRORS: DomainErrors = {
    services.UnknownLocation: (Status.UNKNOWN_LOCATION, 404),  # L-04
    services.UnknownObject: (Status.INVALID_PARAMETERS, 404),
    services.HeldByAnother: (Status.INVALID_PARAMETERS, 404),  # as a party not theirs (T-17)
}
