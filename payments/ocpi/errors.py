"""What each payments exception answers over OCPI: status and HTTP code (T-13, T-14)."""

from ocpi_peer import versions
from ocpi_peer.transport import DomainErrors, Status
from payments import charging, services, settlement, terminals


def _unknown_token(version: str) -> Status:
    """2.2.1 has 2004 for a token we never issued; 2.1.1 has no such status (TK-03)."""
    return Status(versions.get(version).unknown_token_status)


DOMAIN_ERRORS: DomainErrors = {
    services.UnknownToken: (_unknown_token, 404),
    services.NotEnoughInformation: (Status.NOT_ENOUGH_INFORMATION, 200),
    charging.UnknownSession: (Status.INVALID_PARAMETERS, 404),  # a PATCH before any PUT
    charging.UnknownCommand: (Status.CLIENT_ERROR, 404),  # a result for no command of theirs
    # Another connection's object, as a party that is not theirs (T-17): not found for them.
    charging.SessionOfAnother: (Status.INVALID_PARAMETERS, 404),
    settlement.CdrOfAnother: (Status.INVALID_PARAMETERS, 404),
    terminals.UnknownTerminal: (Status.INVALID_PARAMETERS, 404),  # PAY-09
    terminals.TerminalRefused: (Status.INVALID_PARAMETERS, 200),
}
