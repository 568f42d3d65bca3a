"""Why a payment failed, in our own plain words by Stripe's codes, in English and German; an
unknown code reads as a plain decline, never as Stripe's text."""

import pytest
from django.utils import translation

from payments import declines


@pytest.mark.parametrize(
    ("codes", "english", "german"),
    [
        (
            ("insufficient_funds", "card_declined"),
            "There is not enough money on your card. Please try another card.",
            "Auf Ihrer Karte ist nicht genug Guthaben. Bitte nehmen Sie eine andere Karte.",
        ),
        (
            ("expired_card",),
            "Your card has expired. Please try another card.",
            "Ihre Karte ist abgelaufen. Bitte nehmen Sie eine andere Karte.",
        ),
        (
            ("incorrect_cvc",),
            "The security code (CVC) is not correct. Please check it.",
            "Die Prüfnummer (CVC) stimmt nicht. Bitte prüfen Sie sie.",
        ),
        (
            ("processing_error",),
            "Your card could not be processed just now. Please try again in a moment.",
            "Ihre Karte konnte gerade nicht verarbeitet werden. Bitte versuchen Sie es gleich "
            "noch einmal.",
        ),
        (
            ("payment_intent_authentication_failure",),
            "Your bank did not confirm the payment (the security check was not completed). "
            "Please try again or use another card.",
            "Ihre Bank hat die Zahlung nicht bestätigt (die Sicherheitsprüfung wurde nicht "
            "abgeschlossen). Bitte versuchen Sie es noch einmal oder nehmen Sie eine andere "
            "Karte.",
        ),
        (
            ("stolen_card", "card_declined"),
            "Your card was declined. Please try another card.",
            "Ihre Karte wurde abgelehnt. Bitte versuchen Sie eine andere Karte.",
        ),
        (
            (None,),
            "Your card was declined. Please try another card.",
            "Ihre Karte wurde abgelehnt. Bitte versuchen Sie eine andere Karte.",
        ),
    ],
)
def test_it_says_why_in_plain_words(codes: tuple, english: str, german: str) -> None:
    for language, expected in (("en", english), ("de", german)):
        with translation.override(language):
            assert declines.reason(*codes) == expected


def test_every_code_has_its_german_text() -> None:
    with translation.override("en"):
        english = declines.words()
    with translation.override("de"):
        german = declines.words()
    assert [code for code in english if english[code] == german[code]] == []
