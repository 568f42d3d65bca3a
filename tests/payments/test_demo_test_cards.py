"""The demo lists the fake Stripe's test cards on the charger page (`DEMO`, which `make demo`
sets); no other page has them, and production never does, whatever its environment says."""

import pytest
from django.test import Client

from tests.payments.charger import EVSE_ID, charger
from tests.support.production import production_env, run

CARD = "4242 4242 4242 4242"


@pytest.mark.django_db
def test_it_lists_the_test_cards_in_the_demo_only(
    client: Client, stripe_settings, settings
) -> None:
    charger()
    assert CARD not in client.get(f"/charge/{EVSE_ID}/").content.decode()
    settings.DEMO = True
    page = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert CARD in page and "4000 0000 0000 0341" in page and "4000 0025 0000 3155" in page
    assert "Demo: test cards" in page


def test_production_ignores_the_demo_switch() -> None:
    done = run(
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.DEMO)",
        env=production_env(DEMO="true"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
