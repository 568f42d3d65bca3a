"""The fake Stripe for the tests, and what a browser or Stripe would do to it.

Run as `python -m tests.support.localstripe PORT STATE_PATH`: the demo's wrapper
(`config.fakestripe`), localstripe bound to 127.0.0.1 with its own state file. `running()`
starts one and waits for it; the other helpers do over HTTP what Stripe.js (localstripe's
stand-in for it) or Stripe's webhook sender would do, so tests need no browser.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]

# localstripe takes any secret key that starts with "sk_" and any publishable key "pk_".
SECRET_KEY = "sk_test_localstripe"
PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_localstripe_tests"


@dataclass(frozen=True)
class FakeStripe:
    """Where the fake Stripe is and the keys the settings were given for it."""

    base_url: str
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY
    webhook_secret: str = WEBHOOK_SECRET

    @property
    def js_url(self) -> str:
        return f"{self.base_url}/js.stripe.com/v3/"  # the trailing slash matters


@contextmanager
def running(directory: Path, *, resume: bool = False, timeout: float = 20.0) -> Iterator[str]:
    """Starts localstripe on a free loopback port with its state and log in `directory`,
    yields its base URL once it answers, and stops it afterwards. `resume` loads the state
    an earlier run left in `directory` (the default starts from scratch)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.support.localstripe",
        str(port),
        directory / "state.pickle",
    ]
    log_path = directory / "localstripe.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--resume"] if resume else command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: process.poll() is not None or _answers(base_url), timeout=timeout)
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {process.returncode}; see {log_path}")
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/js.stripe.com/v3/", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def card_payment_method(base_url: str, number: str, *, secret_key: str = SECRET_KEY) -> str:
    """A card PaymentMethod's id for a test card number, as the server's API would create it.

    4242424242424242 is held; 4000000000000341 is declined when the hold is confirmed;
    4000002500003155 asks for 3-D Secure."""
    answer = httpx.post(
        f"{base_url}/v1/payment_methods",
        headers={"Authorization": f"Bearer {secret_key}"},
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def confirm_card_setup(
    base_url: str,
    client_secret: str,
    number: str,
    *,
    authenticate: bool = True,
    publishable_key: str = PUBLISHABLE_KEY,
) -> dict[str, Any]:
    """What the Stripe.js stand-in's `confirmCardSetup` does with the card Element: confirm the
    SetupIntent with the card, and if the card asks for 3-D Secure, confirm again (the driver
    completed it) or cancel (the driver failed it). Returns the SetupIntent as JSON, or its
    error as `{"error": …}` like Stripe.js."""
    setup_id = client_secret.split("_secret_")[0]
    body = {
        "key": publishable_key,
        "use_stripe_sdk": True,
        "client_secret": client_secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            "billing_details": {"address": {"postal_code": "10115"}},
        },
    }
    answer = httpx.post(f"{base_url}/v1/setup_intents/{setup_id}/confirm", content=json.dumps(body))
    setup: dict[str, Any] = answer.json()
    if answer.status_code != 200 or setup.get("status") != "requires_action":
        return setup
    step = "confirm" if authenticate else "cancel"
    body = {"key": publishable_key, "use_stripe_sdk": True, "client_secret": client_secret}
    answer = httpx.post(f"{base_url}/v1/setup_intents/{setup_id}/{step}", content=json.dumps(body))
    result: dict[str, Any] = answer.json()
    return result


def confirmation_token(
    base_url: str, number: str, *, publishable_key: str = PUBLISHABLE_KEY
) -> str:
    """What Stripe.js `createConfirmationToken` does with the Payment Element: a single-use
    token of the card typed in (the fake Stripe serves them, `config.fakestripe`)."""
    body = {
        "key": publishable_key,
        "payment_method_data": {
            "type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
        },
    }
    answer = httpx.post(f"{base_url}/v1/confirmation_tokens", content=json.dumps(body))
    answer.raise_for_status()
    return str(answer.json()["id"])


def complete_3ds(
    base_url: str,
    intent_id: str,
    success: bool = True,
    *,
    secret_key: str = SECRET_KEY,
    publishable_key: str = PUBLISHABLE_KEY,
) -> dict[str, Any]:
    """What the Stripe.js stand-in's `confirmCardPayment` does once the driver clicks
    "Complete authentication" (`success=True`) or "Fail authentication": POST
    `/v1/payment_intents/<id>/_authenticate?success=…` with the publishable key and the
    intent's client secret (read here with the secret key, as the page gets it from us).
    Returns the PaymentIntent as JSON; raises if localstripe refuses (e.g. no 3-D Secure was
    pending: it answers 400 then)."""
    intent = httpx.get(
        f"{base_url}/v1/payment_intents/{intent_id}",
        headers={"Authorization": f"Bearer {secret_key}"},
    )
    intent.raise_for_status()
    answer = httpx.post(
        f"{base_url}/v1/payment_intents/{intent_id}/_authenticate",
        params={"success": "true" if success else "false"},
        content=json.dumps(
            {"key": publishable_key, "client_secret": intent.json()["client_secret"]}
        ),
    )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def register_webhook(
    base_url: str, webhook_id: str, url: str, secret: str, events: list[str] | None = None
) -> None:
    """Has localstripe POST its events to `url`, signed with `secret`, about a second after
    they happen. Webhooks live in the server's memory, for all tests alike, until the server
    stops; registering the same id again replaces it."""
    body: dict[str, Any] = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = events
    httpx.post(
        f"{base_url}/_config/webhooks/{webhook_id}", content=json.dumps(body)
    ).raise_for_status()


def stop_webhook(base_url: str, webhook_id: str) -> None:
    """localstripe cannot forget a webhook: this one now subscribes to no events."""
    register_webhook(base_url, webhook_id, "http://127.0.0.1:9/", "unused", events=[])


def set_dispute(base_url: str, dispute_id: str, **fields: Any) -> dict[str, Any]:
    """What a driver's bank does, through the fake's `/_config/disputes/{id}`
    (`config.fakestripe`): open a dispute on the charge of `payment_intent=…`, or give one
    already open another `status`, `amount`, `reason` or `due_by`. Stripe then shows it at
    `GET /v1/disputes/{id}`; no event is sent. Returns the dispute as that shows it."""
    answer = httpx.post(f"{base_url}/_config/disputes/{dispute_id}", content=json.dumps(fields))
    answer.raise_for_status()
    dispute: dict[str, Any] = answer.json()
    return dispute


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it: HMAC-SHA256 of "<t>.<payload>"."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


if __name__ == "__main__":
    from config.fakestripe import main

    main()
