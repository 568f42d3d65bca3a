"""Request and correlation ids (T-15) and the traffic log for everything under /ocpi/."""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from ocpi_peer import traffic
from ocpi_peer.transport import Status, dumps, format_datetime, new_request_id


def _usable_id(value: str | None) -> str:
    """Echo a peer's id only if it is a sane token; otherwise make our own."""
    if value and len(value) <= 64 and value.isprintable() and " " not in value:
        return value
    return new_request_id()


class OcpiTrafficMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/ocpi/"):
            return self.get_response(request)
        request_id = _usable_id(request.META.get("HTTP_X_REQUEST_ID"))
        correlation = _usable_id(request.META.get("HTTP_X_CORRELATION_ID"))
        started = time.monotonic()
        try:
            body = request.body  # read now, so the view can still parse it and we can log it
        except RequestDataTooBig:
            body = b""
            response: HttpResponse = _refused(413, "request body too large")
        except ValueError:  # a Content-Length that is no number (most servers refuse it first)
            body = b""
            response = _refused(400, "the Content-Length header is not a number")
        else:
            reset = traffic.correlation_id.set(correlation)
            try:
                # OCPI speaks English, whichever language the thread's last page was in
                with translation.override(settings.LANGUAGE_CODE):
                    response = self.get_response(request)
            finally:
                traffic.correlation_id.reset(reset)
        response["X-Request-ID"] = request_id
        response["X-Correlation-ID"] = correlation
        data: Any = getattr(response, "data", None)
        streaming = getattr(response, "streaming", False)
        if not streaming and "Content-Length" not in response:  # as CommonMiddleware does
            response["Content-Length"] = str(len(response.content))
        traffic.record_traffic(
            direction="in",
            partner=getattr(request, "ocpi_partner", None),
            method=request.method or "",
            url=request.get_full_path(),
            http_status=response.status_code,
            ocpi_status=traffic.status_code_of(data),
            duration_ms=int((time.monotonic() - started) * 1000),
            request_id=request_id,
            correlation=correlation,
            request_body=body,
            response_body=None if streaming else response.content,
            later=True,
        )
        return response


def _refused(http_status: int, message: str) -> HttpResponse:
    """A request refused before any view could read it, still in the envelope."""
    body = {
        "status_code": int(Status.INVALID_PARAMETERS),
        "status_message": message,
        "timestamp": format_datetime(timezone.now()),
    }
    return HttpResponse(dumps(body), status=http_status, content_type="application/json")
