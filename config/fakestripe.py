"""A local fake Stripe (PyPI `localstripe`) for the demo and the tests:
`python -m config.fakestripe PORT STATE [--resume]`.

localstripe on its own listens on all interfaces and keeps its state in one fixed file in the
temp directory, which parallel runs overwrite. This wrapper binds it to 127.0.0.1 only and keeps
the state in STATE: a file (`…/state.pickle`) or a directory that gets `localstripe.pickle` in
it. It starts from scratch unless `--resume` asks it to load the state an earlier run left.

localstripe knows no disputes; Stripe's only source of them is a driver's bank. This wrapper
serves them as Stripe's API does (`GET /v1/disputes/{id}`, the dispute object of Stripe's API
reference, a 404 `resource_missing` for an unknown id), and a test or the demo plays the bank
with `POST /_config/disputes/{id}` (beside localstripe's own `/_config/` routes): it opens the
dispute on a PaymentIntent's charge, or changes its status, amount or reason later. It sends no
`charge.dispute.*` events; the caller posts those itself.

localstripe knows no ConfirmationTokens either, which the Payment Element hands our server. This
wrapper serves `POST /v1/confirmation_tokens` as Stripe does for Stripe.js (the publishable key
as `key`, the card as `payment_method_data`), and a PaymentIntent created with
`confirmation_token` gets the token's card as its `payment_method`, once: a token is single-use.

A demo tool, not product code: localstripe is an extra (`demo`, `test`) that the product never
imports. `tests/support/localstripe.py` runs this same code.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_request import FileField
from localstripe import resources, server
from localstripe.errors import UserError
from multidict import MultiDict, MultiDictProxy

STATE_FILE_NAME = "localstripe.pickle"


class _StoreAt(resources.Store):
    """localstripe's store, saved to (and loaded from) our own path instead of a fixed temp file.

    localstripe calls `dump_to_disk()` after every change, so overriding the two methods that
    know the path is all it takes."""

    state_path: Path

    def try_load_from_disk(self) -> None:
        try:
            with self.state_path.open("rb") as f:
                old = pickle.load(f)  # noqa: S301 - our own file, written by this process
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self) -> None:
        partial = self.state_path.with_name(self.state_path.name + ".partial")
        with partial.open("wb") as f:
            pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(self.state_path)  # never a half-written state file


def state_file(state: str | Path) -> Path:
    """STATE as given on the command line: an existing file, or a new one with a suffix
    (`…/localstripe.pickle`), is the state file; anything else is a directory (made if need be)
    that keeps `localstripe.pickle`."""
    path = Path(state)
    if path.is_dir() or not (path.is_file() or path.suffix):
        path = path / STATE_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def use_state_file(path: Path, *, resume: bool = False) -> None:
    """Point localstripe's one store (shared by its resources and its server) at `path`."""
    store = resources.store
    store.__class__ = _StoreAt
    assert isinstance(store, _StoreAt)
    store.state_path = path
    store.clear()
    if resume:
        store.try_load_from_disk()


# Stripe's API since 2026-09-30 (endive, what stripe-python 16 speaks) refuses
# `payment_method_types` on PaymentIntents and SetupIntents and takes
# `allowed_payment_method_types`; localstripe knows only the old name and refuses the new one.
_RENAMED = {"allowed_payment_method_types": "payment_method_types"}


@web.middleware
async def _current_parameter_names(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hand localstripe a form with today's parameter names put back to the ones it knows
    (localstripe reads the form through `request.post()`, which keeps what is parsed here)."""
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        if any(key.split("[", 1)[0] in _RENAMED for key in form):
            renamed: MultiDict[str | bytes | FileField] = MultiDict()
            for key, value in form.items():
                name, bracket, rest = key.partition("[")
                renamed.add(_RENAMED.get(name, name) + bracket + rest, value)
            request._post = MultiDictProxy(renamed)
    return await handler(request)


class ConfirmationToken(resources.StripeObject):
    """What Stripe.js `createConfirmationToken` makes: the card entered, kept for one
    PaymentIntent. Only a preview of the card is shown, as Stripe does."""

    object = "confirmation_token"
    _id_prefix = "ctoken_"

    def __init__(self, method: Any) -> None:
        super().__init__()
        self._payment_method = method.id
        self.expires_at = self.created + 12 * 3600
        self.payment_intent = None
        self.payment_method_preview = {"type": method.type, "card": getattr(method, "card", None)}
        self.use_stripe_sdk = True


async def _create_confirmation_token(request: web.Request) -> web.Response:
    data = dict(await server.get_post_data(request, remove_auth=False) or {})
    key = data.pop("key", None)
    for ignored in ("payment_user_agent", "referrer", "return_url"):
        data.pop(ignored, None)
    if server.get_api_key(request) is None and not (isinstance(key, str) and key.startswith("pk_")):
        raise UserError(401, "Unauthorized")
    method_data = data.pop("payment_method_data", None)
    if data:
        raise UserError(400, "Unexpected " + ", ".join(data))
    if not isinstance(method_data, dict):
        raise UserError(400, "Missing required param: payment_method_data.")
    method = resources.PaymentMethod._api_create(**method_data)
    return server.json_response(ConfirmationToken(method)._export())


def _spend_confirmation_token(token_id: str) -> str:
    """The token's card, once; Stripe's refusal for an unknown or spent token otherwise."""
    token = resources.store.get(f"{ConfirmationToken.object}:{token_id}")
    if not isinstance(token, ConfirmationToken) or token.payment_intent is not None:
        raise UserError(
            400,
            f"No such confirmationtoken: '{token_id}'",
            {"code": "resource_missing", "param": "confirmation_token"},
        )
    token.payment_intent = "used"
    return str(token._payment_method)


@web.middleware
async def _confirmation_tokens(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve `POST /v1/confirmation_tokens`, and hand localstripe a PaymentIntent created with
    `confirmation_token` as one created with that token's `payment_method`."""
    try:
        if request.method == "POST" and request.path == "/v1/confirmation_tokens":
            return await _create_confirmation_token(request)
        if (
            request.method == "POST"
            and request.path == "/v1/payment_intents"
            and request.content_type == "application/x-www-form-urlencoded"
        ):
            form = await request.post()
            if "confirmation_token" in form:
                changed: MultiDict[str | bytes | FileField] = MultiDict()
                for name, value in form.items():
                    if name == "confirmation_token":
                        changed.add("payment_method", _spend_confirmation_token(str(value)))
                    else:
                        changed.add(name, value)
                request._post = MultiDictProxy(changed)
    except UserError as exc:
        return exc.to_response()
    return await handler(request)


EVIDENCE_DAYS = 7  # Stripe's usual time to answer a dispute, when the caller names no due date
DISPUTE_STATUSES = {
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
}


class Dispute(resources.StripeObject):
    """A dispute on a PaymentIntent's charge, shaped as Stripe's API reference has it. Kept in
    localstripe's store (and its state file) like its own objects."""

    object = "dispute"
    _id_prefix = "du_"

    def __init__(self, id: str, intent: Any, **checked: Any) -> None:
        """`checked` comes from `_checked()`: every refusal comes before the store keeps it."""
        charge = intent.latest_charge
        if charge is None:
            raise UserError(400, f"PaymentIntent {intent.id} has no charge to dispute")
        super().__init__(id=id)
        # What the driver paid and kept paid: localstripe books an uncaptured rest as a refund.
        self.amount = charge.amount - charge.amount_refunded
        self.balance_transactions: list[Any] = []
        self.charge = charge.id
        self.currency = charge.currency
        self.evidence = {"customer_name": None, "uncategorized_text": None}
        self.evidence_details = {
            "due_by": self.created + EVIDENCE_DAYS * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.payment_intent = intent.id
        self.reason = "general"
        self.status = "needs_response"
        self._set(checked)

    def _set(self, checked: dict[str, Any]) -> None:
        """What the bank (a test) says now; the fields not named stay as they were."""
        due_by = checked.pop("due_by", None)
        if due_by is not None:
            self.evidence_details["due_by"] = due_by
        for name, value in checked.items():
            setattr(self, name, value)

    @classmethod
    def _api_retrieve(cls, id: str) -> Dispute:
        found = resources.store.get(f"{cls.object}:{id}")
        if found is None:  # Stripe's own words and code for an id it does not know
            raise UserError(
                404,
                f"No such dispute: '{id}'",
                {"code": "resource_missing", "param": "dispute"},
            )
        assert isinstance(found, Dispute)
        return found


def _checked(
    amount: Any = None, status: Any = None, reason: Any = None, due_by: Any = None, **unknown: Any
) -> dict[str, Any]:
    """The dispute's fields a caller may set, checked as Stripe would have them; None: unset."""
    if unknown:
        raise UserError(400, "Unexpected " + ", ".join(unknown))
    amount = resources.try_convert_to_int(amount)
    due_by = resources.try_convert_to_int(due_by)
    if amount is not None and (type(amount) is not int or amount < 0):
        raise UserError(400, "amount is an integer in minor units")
    if status is not None and status not in DISPUTE_STATUSES:
        raise UserError(400, f"status is one of {sorted(DISPUTE_STATUSES)}")
    if due_by is not None and type(due_by) is not int:
        raise UserError(400, "due_by is a Unix timestamp")
    reason = None if reason is None else str(reason)
    given = {"amount": amount, "status": status, "reason": reason, "due_by": due_by}
    return {name: value for name, value in given.items() if value is not None}


async def _config_dispute(request: web.Request) -> web.Response:
    """`POST /_config/disputes/{id}`, JSON or form. With `payment_intent`, the bank opens the
    dispute on that intent's charge (replacing one of the same id: tests reuse ids against one
    server); without, it changes the open one. Either may set `amount` (what the charge left paid,
    unless given), `status` (`needs_response`), `reason` (`general`) and `due_by` (a Unix time, a
    week on). Answers the dispute as `GET /v1/disputes/{id}` will."""
    dispute_id = request.match_info["id"]
    data = dict(await server.get_post_data(request) or {})
    intent_id = data.pop("payment_intent", None)
    key = f"{Dispute.object}:{dispute_id}"
    if intent_id is None:
        dispute = Dispute._api_retrieve(dispute_id)
        dispute._set(_checked(**data))
    else:
        if not (isinstance(intent_id, str) and intent_id.startswith("pi_")):
            raise UserError(400, "payment_intent is a PaymentIntent's id")
        intent = resources.PaymentIntent._api_retrieve(intent_id)
        checked = _checked(**data)
        resources.store.pop(key, None)
        dispute = Dispute(dispute_id, intent, **checked)
    return server.json_response(dispute._export())


def _serve_disputes(app: web.Application) -> None:
    if any(getattr(r, "canonical", "") == "/v1/disputes/{id}" for r in app.router.resources()):
        return
    app.router.add_get("/v1/disputes/{id}", server.api_retrieve(Dispute, "/v1/disputes/{id}"))
    app.router.add_post("/_config/disputes/{id}", _config_dispute)


def run(port: int, state: str | Path, *, resume: bool = False) -> None:
    """Serve localstripe on 127.0.0.1:`port` until SIGINT or SIGTERM."""
    use_state_file(state_file(state), resume=resume)
    for middleware in (_confirmation_tokens, _current_parameter_names):
        if middleware not in server.app.middlewares:
            server.app.middlewares.insert(0, middleware)
    _serve_disputes(server.app)
    access_log = logging.getLogger("aiohttp.access")  # localstripe logs webhook deliveries here
    access_log.setLevel(logging.INFO)
    access_log.addHandler(logging.StreamHandler())
    print(f"fake Stripe on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=access_log, print=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fakestripe", description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int)
    parser.add_argument("state", help="state file, or a directory to keep it in")
    parser.add_argument("--resume", action="store_true", help="load the state of an earlier run")
    args = parser.parse_args(argv)
    run(args.port, args.state, resume=args.resume)


if __name__ == "__main__":
    main()
