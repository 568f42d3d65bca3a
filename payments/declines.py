"""Why a payment did not go through, in our own plain words and the driver's language.

Stripe explains a refusal with a code (`card_declined`, `payment_intent_authentication_failure`)
and, for declines, a `decline_code` (`insufficient_funds`, `expired_card`). Its own messages are
English and written for developers, so the driver never sees them: the server maps the codes
Stripe reports on the PaymentIntent, and the charger page maps the ones Stripe.js returns with
the same table (`words()`, handed to the page as JSON). An unknown code reads as a plain decline.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DECLINED = _("Your card was declined. Please try another card.")
AUTHENTICATION = _(
    "Your bank did not confirm the payment (the security check was not completed). Please try "
    "again or use another card."
)
CHECK_DETAILS = _("Please check your card details.")
NETWORK = _("No connection to the payment service. Please try again.")

_BY_CODE: dict[str, Promise] = {
    "insufficient_funds": _("There is not enough money on your card. Please try another card."),
    "expired_card": _("Your card has expired. Please try another card."),
    "incorrect_cvc": _("The security code (CVC) is not correct. Please check it."),
    "invalid_cvc": _("The security code (CVC) is not correct. Please check it."),
    "incomplete_cvc": _("The security code (CVC) is not complete. Please check it."),
    "incorrect_number": _("The card number is not correct. Please check it."),
    "invalid_number": _("The card number is not correct. Please check it."),
    "incomplete_number": _("The card number is not complete. Please check it."),
    "invalid_expiry_month": _("The expiry date is not correct. Please check it."),
    "invalid_expiry_year": _("The expiry date is not correct. Please check it."),
    "incomplete_expiry": _("The expiry date is not complete. Please check it."),
    "incorrect_zip": _("The postal code does not match your card. Please check it."),
    "processing_error": _(
        "Your card could not be processed just now. Please try again in a moment."
    ),
    "try_again_later": _(
        "Your card could not be processed just now. Please try again in a moment."
    ),
    "card_velocity_exceeded": _("Your card's limit has been reached. Please try another card."),
    "withdrawal_count_limit_exceeded": _(
        "Your card's limit has been reached. Please try another card."
    ),
    "card_not_supported": _("This card cannot be used here. Please try another card."),
    "currency_not_supported": _("This card cannot be used here. Please try another card."),
    "authentication_failure": AUTHENTICATION,
    "authentication_required": AUTHENTICATION,
    "setup_intent_authentication_failure": AUTHENTICATION,
    "payment_intent_authentication_failure": AUTHENTICATION,
}


def reason(*codes: str | None) -> str:
    """The driver's words for the first code we know (pass the decline code before the error
    code: it is the more precise); a plain decline otherwise."""
    for code in codes:
        if code and code in _BY_CODE:
            return str(_BY_CODE[code])
    return str(DECLINED)


def words() -> dict[str, str]:
    """Every text of this module in the active language, for the charger page's script: by
    code, plus `declined` (anything else), `check` (a form Stripe.js refused) and `network`."""
    return {code: str(text) for code, text in _BY_CODE.items()} | {
        "declined": str(DECLINED),
        "check": str(CHECK_DETAILS),
        "network": str(NETWORK),
    }
