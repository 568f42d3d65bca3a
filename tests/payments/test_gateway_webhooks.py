"""Stripe webhooks: only correctly signed, recent events are believed, and they name their
intent. localstripe sends `payment_intent.succeeded` after a capture and
`payment_intent.payment_failed` after a decline, nothing when a hold is placed."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from payments import gateway
from tests.helpers import wait_until
from tests.support.localstripe import (
    FakeStripe,
    card_payment_method,
    register_webhook,
    stop_webhook,
    stripe_signature,
)

SECRET = "whsec_test_webhooks"


def event_body(event_type: str = "payment_intent.succeeded", intent_id: str = "pi_123") -> bytes:
    event = {
        "id": "evt_1",
        "object": "event",
        "type": event_type,
        "data": {"object": {"id": intent_id, "object": "payment_intent", "status": "succeeded"}},
    }
    return json.dumps(event).encode()


@pytest.fixture
def webhook_secret(settings: Any) -> str:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


def test_an_event_signed_with_our_secret_is_accepted(webhook_secret: str) -> None:
    body = event_body(intent_id="pi_signed")
    event = gateway.parse_webhook(body, stripe_signature(body, webhook_secret))
    assert event == gateway.WebhookEvent(
        id="evt_1", type="payment_intent.succeeded", intent_id="pi_signed"
    )


def test_an_event_about_a_charge_names_the_charges_intent(webhook_secret: str) -> None:
    body = json.dumps(
        {
            "id": "evt_2",
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_1", "object": "charge", "payment_intent": "pi_ch"}},
        }
    ).encode()
    event = gateway.parse_webhook(body, stripe_signature(body, webhook_secret))
    assert (event.type, event.intent_id) == ("charge.refunded", "pi_ch")


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda body: stripe_signature(body, "whsec_someone_else"), id="other-secret"),
        pytest.param(lambda body: stripe_signature(body + b" ", SECRET), id="other-body"),
        pytest.param(
            lambda body: stripe_signature(body, SECRET, timestamp=int(time.time()) - 3600),
            id="an-hour-old",
        ),
        pytest.param(lambda body: "", id="no-header"),
        pytest.param(lambda body: "t=abc,v1=", id="garbage"),
    ],
)
def test_an_event_with_a_bad_signature_is_refused(
    webhook_secret: str, signature: Callable[[bytes], str]
) -> None:
    body = event_body()
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(body, signature(body))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "evt_3"}', b"\xff\xfe"])
def test_a_signed_body_that_is_not_an_event_is_refused(webhook_secret: str, body: bytes) -> None:
    with pytest.raises(gateway.InvalidWebhook):
        gateway.parse_webhook(body, stripe_signature(body, webhook_secret))


class Deliveries:
    """What localstripe POSTed to our webhook URL, each verified by `parse_webhook`."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.lock = threading.Lock()

    def events(self) -> list[gateway.WebhookEvent]:
        with self.lock:
            return [gateway.parse_webhook(body, signature) for body, signature in self.received]


@pytest.fixture
def deliveries(stripe_settings: FakeStripe, webhook_secret: str) -> Iterator[Deliveries]:
    caught = Deliveries()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with caught.lock:
                caught.received.append((body, self.headers.get("Stripe-Signature", "")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/stripe/webhook/"
    register_webhook(stripe_settings.base_url, "gateway-tests", url, webhook_secret)
    yield caught
    stop_webhook(stripe_settings.base_url, "gateway-tests")
    server.shutdown()
    server.server_close()


def test_localstripe_sends_a_signed_succeeded_event_after_a_capture(
    stripe_settings: FakeStripe, deliveries: Deliveries
) -> None:
    held = gateway.place_hold(
        amount_minor=2000,
        currency="EUR",
        payment_method=card_payment_method(stripe_settings.base_url, "4242424242424242"),
        checkout_ref="chk_webhook_1",
        idempotency_key="hold-chk_webhook_1",
    )
    gateway.capture(held.id, amount_minor=1500, idempotency_key="capture-chk_webhook_1")

    (event,) = wait_until(
        lambda: [e for e in deliveries.events() if e.intent_id == held.id], timeout=10
    )
    assert event.type == "payment_intent.succeeded"


def test_localstripe_sends_a_signed_failed_event_after_a_decline(
    stripe_settings: FakeStripe, deliveries: Deliveries
) -> None:
    with pytest.raises(gateway.PaymentDeclined):
        gateway.place_hold(
            amount_minor=2000,
            currency="EUR",
            payment_method=card_payment_method(stripe_settings.base_url, "4000000000000341"),
            checkout_ref="chk_webhook_2",
            idempotency_key="hold-chk_webhook_2",
        )

    def declined_intents() -> list[gateway.Intent]:
        failed = [e for e in deliveries.events() if e.type == "payment_intent.payment_failed"]
        intents = [gateway.retrieve(e.intent_id) for e in failed if e.intent_id]
        return [i for i in intents if i.checkout_ref == "chk_webhook_2"]

    (intent,) = wait_until(declined_intents, timeout=10)  # how a decline's intent is found
    assert intent.status == "requires_payment_method"
    assert intent.decline_reason == "Your card was declined."
