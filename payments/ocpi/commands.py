from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import commands
from ocpi_peer.openapi import operation, path_parameter
from ocpi_peer.transport import OcpiView, envelope
from ocpi_peer.versions.v2_2_1 import CommandResultSerializer
from payments import charging
from payments.ocpi.errors import DOMAIN_ERRORS


class CommandsSenderView(OcpiView):
    """The response_url we hand out with each command: the CPO POSTs the CommandResult here
    (checklist §9.1). Repeats are answered 1000 and change nothing (CMD-02)."""

    functional = True
    domain_errors = DOMAIN_ERRORS

    @operation(
        summary="The result of a command we sent, at the response_url we gave",
        request=CommandResultSerializer,
        parameters=[
            path_parameter("command", "^[A-Z_]+$", "the command's type, e.g. START_SESSION"),
            path_parameter("callback_id", "^[A-Za-z0-9_-]+$", "ours, from the response_url"),
        ],
    )
    def post(self, request: Request, version: str, command: str, callback_id: str) -> Response:
        result, message = commands.read_result(version, request.data)
        charging.record_command_result(
            partner=request.auth.partner,
            callback_id=callback_id,
            result=result,
            message=message,
        )
        return envelope(None)
