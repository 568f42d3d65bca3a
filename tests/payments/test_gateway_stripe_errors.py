"""Errors localstripe cannot produce, answered the way Stripe's API reference documents them
by a stand-in server on loopback: a decline with a decline code and the intent it created,
rate limiting, and Stripe being down."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from payments import gateway

CARD_ERROR = {
    "error": {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
        "charge": "ch_3Qdeclined",
        "payment_intent": {
            "id": "pi_3Qdeclined",
            "object": "payment_intent",
            "status": "requires_payment_method",
        },
    }
}
RATE_LIMITED = {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "…"}}


@pytest.fixture
def stripe_answering(settings: Any) -> Iterator[dict[str, Any]]:
    """Every request is answered with `answer["status"]` and `answer["body"]`."""
    answer: dict[str, Any] = {"status": 200, "body": {}, "requests": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def do_GET(self) -> None:
            answer["requests"] += 1
            body = json.dumps(answer["body"]).encode()
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Stripe-Should-Retry", "false")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.STRIPE_SECRET_KEY = "sk_test_stand_in"
    yield answer
    server.shutdown()
    server.server_close()


def place_hold() -> gateway.Intent:
    return gateway.place_hold(
        amount_minor=5000,
        currency="EUR",
        payment_method="pm_1Q",
        checkout_ref="chk_errors",
        idempotency_key="hold-chk_errors",
    )


def test_a_real_decline_gives_the_decline_in_words_and_the_intent_it_created(
    stripe_answering: dict[str, Any],
) -> None:
    stripe_answering.update(status=402, body=CARD_ERROR)
    with pytest.raises(gateway.PaymentDeclined) as declined:
        place_hold()
    assert declined.value.reason == "Your card has insufficient funds."
    assert declined.value.code == "insufficient_funds"
    assert declined.value.intent_id == "pi_3Qdeclined"


def test_rate_limiting_is_a_transient_error(stripe_answering: dict[str, Any]) -> None:
    stripe_answering.update(status=429, body=RATE_LIMITED)
    with pytest.raises(gateway.GatewayError) as failed:
        place_hold()
    assert (failed.value.transient, failed.value.http_status) == (True, 429)


def test_stripe_being_down_is_a_transient_error(stripe_answering: dict[str, Any]) -> None:
    stripe_answering.update(status=503, body={"error": {"type": "api_error", "message": "down"}})
    with pytest.raises(gateway.GatewayError) as failed:
        gateway.retrieve("pi_3Qany")
    assert (failed.value.transient, failed.value.http_status) == (True, 503)
