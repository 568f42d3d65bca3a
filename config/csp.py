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


class StripeCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with `stripe_directives()` added to the enforced policy."""

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
