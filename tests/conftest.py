"""Real peers on loopback: the CPO simulator (which calls our live server) and, from the
checkout work on, localstripe. PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL say so."""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

from cpo_simulator import CpoSimulator
from tests.support.localstripe import FakeStripe, running

StartCpo = Callable[..., CpoSimulator]

# Every peer of the tests listens on loopback; processes the tests start inherit this. The tests
# of the outbound guard turn it off again with the `settings` fixture.
os.environ["OCPI_ALLOW_PRIVATE_URLS"] = "true"


@pytest.fixture(autouse=True)
def private_urls_allowed(settings: Any) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def ocpi_base(live_server: Any, settings: Any) -> str:
    """Our platform over real HTTP; every URL we publish points at it."""
    settings.PUBLIC_BASE_URL = live_server.url
    return f"{live_server.url}/ocpi"


@pytest.fixture
def cpo_simulator(ocpi_base: str) -> Iterator[StartCpo]:
    """Starts CPO simulators on free loopback ports; all are stopped after the test."""
    started: list[CpoSimulator] = []

    def start(version: str = "2.2.1", **options: Any) -> CpoSimulator:
        versions = options.pop("versions", (version,))
        sim = CpoSimulator(versions=versions, **options).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def pytest_report_header() -> str:
    engine = django_settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"database: {engine}, broker: {django_settings.CELERY_BROKER_URL.split(':')[0]}"


@pytest.fixture
def connected_cpo(cpo_simulator: StartCpo, ocpi_base: str) -> Callable[..., CpoSimulator]:
    """A CPO simulator registered with us (it started the handshake): it can push to us. It
    sends no CDRs unless a test asks (`cdr_fault=None`), so charging tests end at "finished"
    and the settlement tests decide when a CDR comes."""

    def connect(version: str = "2.2.1", **options: Any) -> CpoSimulator:
        from ocpi_peer.registration import invite_partner

        options.setdefault("cdr_fault", "no_cdr")
        _, token_a = invite_partner(name=options.pop("name", "Pushing CPO"))
        cpo = cpo_simulator(version=version, **options)
        answer = cpo.register_with(f"{ocpi_base}/versions", token_a)
        assert answer.json()["status_code"] == 1000, answer.text
        return cpo

    return connect


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run where they are enqueued, so a test sees their effect without a worker."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fake Stripe per run, on loopback, with a state file no parallel run shares.
    Yields its base URL; its log is `localstripe.log` beside the state."""
    with running(tmp_path_factory.mktemp("localstripe")) as base_url:
        yield base_url


@pytest.fixture
def stripe_settings(localstripe: str, settings: Any) -> FakeStripe:
    """Points STRIPE_API_BASE, the keys, the webhook secret and STRIPE_JS_URL at the fake."""
    fake = FakeStripe(base_url=localstripe)
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = fake.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = fake.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_JS_URL = fake.js_url
    return fake
