"""Our Payments Sender (OCPI 2.3.0, checklist §14.3): the CPO reads our Terminals and Financial
Advice Confirmations, and writes to our Terminals (activate, deactivate, PUT, PATCH). Each
connection sees and changes only its own; another's id is not found (2001, HTTP 404)."""

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ocpi_peer import versions
from ocpi_peer.openapi import object_id, operation
from ocpi_peer.transport import OcpiError, OcpiView, Status, envelope, paginate
from ocpi_peer.versions.fields import AnyJson, read_partial
from ocpi_peer.versions.v2_3_0 import TerminalSerializer
from payments import terminals
from payments.models import FinancialAdvice, Terminal
from payments.ocpi.errors import DOMAIN_ERRORS

PAYMENTS_VERSIONS = tuple(n for n, spec in versions.SUPPORTED.items() if spec.terminal)


def _serializers(version: str) -> tuple[Any, Any]:
    """The version's Terminal and FinancialAdviceConfirmation serializers."""
    spec = versions.get(version)
    if spec.terminal is None or spec.financial_advice is None:  # the URLs allow no other
        raise OcpiError(Status.CLIENT_ERROR, f"no Payments module in {version}", http_status=404)
    return spec.terminal, spec.financial_advice


def _read(serializer: Any, data: Any) -> dict[str, Any]:
    """A Terminal body: every field optional (see `TerminalSerializer`), each one checked."""
    if not isinstance(data, dict) or not data:
        raise serializers.ValidationError("the body is a non-empty Terminal object")
    return read_partial(serializer, data)


class PaymentsView(OcpiView):
    functional = True
    domain_errors = DOMAIN_ERRORS


class TerminalsSenderView(PaymentsView):
    """GET our terminals for this connection, a page at a time."""

    @operation(
        summary="Our payment terminals for this connection, a page at a time",
        data=serializers.ListField(child=AnyJson()),
        data_name="OcpiTerminals",
        paginated=True,
        versions=PAYMENTS_VERSIONS,
        operation_id="ocpi_payments_terminals_list",
    )
    def get(self, request: Request, version: str) -> Response:
        terminal, _ = _serializers(version)
        mine = Terminal.objects.filter(partner=request.auth.partner)
        return paginate(request, mine, lambda page: [terminal().to_representation(t) for t in page])


class TerminalSenderView(PaymentsView):
    """One terminal: GET it, PUT its data, PATCH its assignment (the CPO's writes)."""

    @operation(
        summary="One of our payment terminals",
        data=AnyJson(),
        data_name="OcpiTerminal",
        parameters=[object_id("terminal_id")],
        versions=PAYMENTS_VERSIONS,
        operation_id="ocpi_payments_terminal_get",
    )
    def get(self, request: Request, version: str, terminal_id: str) -> Response:
        terminal, _ = _serializers(version)
        found = terminals.terminal_of(request.auth.partner, terminal_id)
        return envelope(terminal().to_representation(found))

    @operation(
        summary="The CPO updates a terminal's data (customer_reference, invoice_base_url, …)",
        request=TerminalSerializer,
        data=AnyJson(),
        data_name="OcpiTerminal",
        parameters=[object_id("terminal_id")],
        versions=PAYMENTS_VERSIONS,
    )
    def put(self, request: Request, version: str, terminal_id: str) -> Response:
        terminal, _ = _serializers(version)
        changes = _read(terminal, request.data)
        if changes.get("terminal_id") and changes["terminal_id"].upper() != terminal_id.upper():
            raise OcpiError(Status.INVALID_PARAMETERS, "terminal_id differs from the URL's")
        updated = terminals.update_terminal(
            partner=request.auth.partner, terminal_id=terminal_id, changes=changes
        )
        return envelope(terminal().to_representation(updated))

    @operation(
        summary="The CPO assigns location_ids and/or evse_uids to a terminal",
        request=TerminalSerializer,
        data=AnyJson(),
        data_name="OcpiTerminal",
        parameters=[object_id("terminal_id")],
        versions=PAYMENTS_VERSIONS,
    )
    def patch(self, request: Request, version: str, terminal_id: str) -> Response:
        terminal, _ = _serializers(version)
        changes = _read(terminal, request.data)
        updated = terminals.assign_terminal(
            partner=request.auth.partner, terminal_id=terminal_id, changes=changes
        )
        return envelope(terminal().to_representation(updated))


class TerminalActivateView(PaymentsView):
    """POST activate (PAY-02): a terminal of the CPO's order, mapped by its `reference`."""

    @operation(
        summary="The CPO activates a terminal for its locations or EVSEs",
        request=TerminalSerializer,
        data=AnyJson(),
        data_name="OcpiTerminal",
        versions=PAYMENTS_VERSIONS,
    )
    def post(self, request: Request, version: str) -> Response:
        terminal, _ = _serializers(version)
        fields = _read(terminal, request.data)
        activated = terminals.activate_terminal(partner=request.auth.partner, fields=fields)
        return envelope(terminal().to_representation(activated))


class TerminalDeactivateView(PaymentsView):
    """POST deactivate: no body; its EVSEs are no longer payable through it."""

    @operation(
        summary="The CPO deactivates a terminal",
        data=AnyJson(),
        data_name="OcpiTerminal",
        parameters=[object_id("terminal_id")],
        versions=PAYMENTS_VERSIONS,
    )
    def post(self, request: Request, version: str, terminal_id: str) -> Response:
        terminal, _ = _serializers(version)
        done = terminals.deactivate_terminal(partner=request.auth.partner, terminal_id=terminal_id)
        return envelope(terminal().to_representation(done))


class AdvicesSenderView(PaymentsView):
    """GET our Financial Advice Confirmations for this connection, a page at a time, or one."""

    @operation(
        summary="Our Financial Advice Confirmations, a page at a time",
        data=serializers.ListField(child=AnyJson()),
        data_name="OcpiFinancialAdviceConfirmations",
        paginated=True,
        versions=PAYMENTS_VERSIONS,
        operation_id="ocpi_financial_advice_confirmations_list",
    )
    def get(self, request: Request, version: str, advice_id: str | None = None) -> Response:
        _, advice = _serializers(version)
        mine = FinancialAdvice.objects.filter(partner=request.auth.partner)
        if advice_id is not None:
            found = mine.filter(advice_id__iexact=advice_id).first()
            if found is None:
                raise OcpiError(
                    Status.INVALID_PARAMETERS,
                    "no such financial advice confirmation",
                    http_status=404,
                )
            return envelope(advice().to_representation(found))
        return paginate(request, mine, lambda page: [advice().to_representation(a) for a in page])


class AdviceSenderView(AdvicesSenderView):
    """One FAC (`…/financial-advice-confirmations/{id}`): the same view, described apart."""

    @operation(
        summary="One of our Financial Advice Confirmations",
        data=AnyJson(),
        data_name="OcpiFinancialAdviceConfirmation",
        parameters=[object_id("advice_id")],
        versions=PAYMENTS_VERSIONS,
        operation_id="ocpi_financial_advice_confirmation_get",
    )
    def get(self, request: Request, version: str, advice_id: str | None = None) -> Response:
        return super().get(request, version, advice_id)
