"""The Content-Security-Policy of every answer: `CONTENT_SECURITY_POLICY` from the settings,
plus the Stripe origins read from the settings at each answer rather than written into the
policy, so the policy follows STRIPE_JS_URL and STRIPE_API_BASE wherever they point (Stripe
itself, or the local fake of the demo and the tests) and cannot disagree with them."""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from config.production import origin


def stripe_directives() -> dict[str, list[str]]:
    """What Stripe.js needs beside our own origin: its script, its frames (card fields, 3-D
    Secure) from where it is loaded, and its calls to the API."""
    js = origin(settings.STRIPE_JS_URL)
    return {
        "script-src": [js],
        "frame-src": [js],
        "connect-src": [origin(settings.STRIPE_API_BASE)],
    }


# OCPI answers are JSON for machines: no page of ours is ever among them, so they carry the
# strictest policy there is, written once, rather than the pages' policy built at each answer
# (which cost a status PATCH a tenth of its CPU).
OCPI_PREFIX, OCPI_POLICY = "/ocpi/", "default-src 'none'; frame-ancestors 'none'"


class StripeCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with `stripe_directives()` added to the enforced policy, and
    `OCPI_POLICY` on OCPI answers."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path_info.startswith(OCPI_PREFIX):
            response.headers.setdefault("Content-Security-Policy", OCPI_POLICY)
            return response
        return super().process_response(request, response)

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            update = dict(parts.update or {})
            for directive, sources in stripe_directives().items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
