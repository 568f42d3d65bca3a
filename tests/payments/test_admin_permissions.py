"""Each job in the admin that moves money, works a case or hands out figures asks for its own
permission, not only a staff account: a staff user whose roles lack it gets a 403 (pages) or
the action is not offered (lists), and nothing changes; the role that holds it does the job,
and the admin's log records who did what to which object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client

from ocpi_peer.models import CommandRequest, Partner
from payments.cases import open_case
from payments.models import Case, Cdr, Checkout, CpoTerms, Refund
from stations.models import Evse, EvseIdAlias, evse_lookup_key
from tests.payments.charger import charger
from tests.payments.ledger_rows import at, book, cdr_of, checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

CHECKOUTS, CASES, EVSES = (
    "/admin/payments/checkout/",
    "/admin/payments/case/",
    "/admin/stations/evse/",
)


@dataclass
class World:
    checkout: Checkout  # captured 12.30 EUR
    open_case: Case
    unmatched: Case  # an unmatched CDR of the same partner
    failed_capture: Case
    evse: Evse  # its ID names DE*QQQ, not its publisher DE*ABC


@pytest.fixture
def world() -> World:
    evse = charger()
    partner = Partner.objects.get(name="Test CPO")
    checkout = checkout_of(partner, "REF-ONE")
    book(checkout, "hold", 5000, at(30, 8))
    book(checkout, "capture", 1230, at(30, 10))
    stray = cdr_of(checkout_of(partner, "REF-STRAY"), "CDR-STRAY", Decimal("3.00"))
    Cdr.objects.filter(pk=stray.pk).update(checkout=None)
    failed = cdr_of(checkout_of(partner, "REF-FAILED"), "CDR-FAILED", Decimal("4.00"))
    Evse.objects.filter(pk=evse.pk).update(
        evse_id="DE*QQQ*E7", lookup_key=evse_lookup_key("DE*QQQ*E7")
    )
    return World(
        checkout=checkout,
        open_case=open_case(
            Case.Kind.PRICE_DIFFERENCE, "CDR asks more", key="price:1", checkout=checkout
        ),
        unmatched=open_case(
            Case.Kind.UNMATCHED_CDR, "no checkout", key=f"unmatched-cdr:{stray.pk}", cdr=stray
        ),
        failed_capture=open_case(
            Case.Kind.FAILED_CAPTURE, "card declined", key="failed:1", cdr=failed
        ),
        evse=evse,
    )


def action(client: Client, url: str, name: str, pk: int, **form: str) -> HttpResponse:
    data = {"action": name, "_selected_action": [pk], **form}
    return client.post(url, data, follow=True)


@dataclass
class Job:
    name: str
    role: str  # the role that holds its permission
    refused: tuple[str, ...]  # roles that may open the list or page's model but lack it
    do: Callable[[Client, World], HttpResponse]
    done: Callable[[World, HttpResponse], bool]
    logged_on: Callable[[World], Model | None]  # None: no single object
    message: str

    def __str__(self) -> str:
        return self.name


def _refund(client: Client, world: World) -> HttpResponse:
    return client.post(
        f"{CHECKOUTS}{world.checkout.pk}/refund/",
        {
            "amount": "1.28",
            "reason": "stopped early",
            "borne_by": "platform",
            "key": "operator:test-1",
            "confirm": "yes",
        },
    )


def _export(client: Client, world: World) -> HttpResponse:
    return client.get(f"{CHECKOUTS}settlement/", {"first": "2026-11-30", "last": "2026-11-30"})


def _cpo_terms(client: Client, world: World) -> HttpResponse:
    return client.post(
        "/admin/payments/cpoterms/add/",
        {
            "country_code": "DE",
            "party_id": "ABC",
            "default_hold": "30.00",
            "price_tolerance": "0.05",
            "merchant_of_record": "platform",
        },
    )


def _says(text: str) -> Callable[[World, HttpResponse], bool]:
    return lambda world, answer: text in answer.content.decode()


JOBS = [
    Job(
        "refund",
        "finance",
        ("support", "operations"),
        _refund,
        lambda w, a: Refund.objects.filter(checkout=w.checkout, amount_minor=128).exists(),
        lambda w: w.checkout,
        "Refund of €1.28 requested, borne by the platform: stopped early",
    ),
    Job(
        "settlement export",
        "finance",
        ("support", "operations"),
        _export,
        lambda w, a: a["Content-Type"].startswith("text/csv") and b"REF-ONE" in a.content,
        lambda w: None,  # every partner's: logged under the ledger, no single object
        "Downloaded the settlement export of 2026-11-30 (all partners)",
    ),
    Job(
        "unlock",
        "support",
        ("finance", "operations"),
        lambda c, w: action(c, CHECKOUTS, "unlock_connector", w.checkout.pk),
        lambda w, a: CommandRequest.objects.filter(command="UNLOCK_CONNECTOR").exists(),
        lambda w: w.checkout,
        "Unlock sent",
    ),
    Job(
        "resolve",
        "support",
        ("finance",),
        lambda c, w: action(
            c, CASES, "resolve", w.open_case.pk, resolution="CPO confirmed", apply="1"
        ),
        lambda w, a: Case.objects.get(pk=w.open_case.pk).resolved_at is not None,
        lambda w: w.open_case,
        "Resolved: CPO confirmed",
    ),
    Job(
        "link CDR",
        "finance",
        ("support", "operations"),
        lambda c, w: action(
            c, CASES, "link_cdr", w.unmatched.pk, checkout=str(w.checkout.pk), apply="1"
        ),
        lambda w, a: Cdr.objects.get(cdr_id="CDR-STRAY").checkout_id == w.checkout.pk,
        lambda w: w.unmatched,
        "Linked CDR CDR-STRAY to checkout",
    ),
    Job(
        "retry capture",
        "finance",
        ("support", "operations"),
        lambda c, w: action(c, CASES, "retry_capture", w.failed_capture.pk),
        _says("capture queued again"),
        lambda w: w.failed_capture,
        "Capture queued again",
    ),
    Job(
        "approve EVSE ID alias",
        "operations",
        ("support",),
        lambda c, w: action(c, EVSES, "approve_id_operator", w.evse.pk),
        lambda w, a: EvseIdAlias.objects.filter(party_id="ABC", operator_prefix="DEQQQ").exists(),
        lambda w: EvseIdAlias.objects.get(),
        "Approved from EVSE DE*QQQ*E7",
    ),
    Job(
        "CPO terms",
        "finance",
        ("support", "operations"),
        _cpo_terms,
        lambda w, a: CpoTerms.objects.filter(party_id="ABC", default_hold=30).exists(),
        lambda w: CpoTerms.objects.get(),
        "Added.",
    ),
]

REFUSALS = [(job, role) for job in JOBS for role in (*job.refused, None)]


@pytest.mark.parametrize(("job", "role"), REFUSALS, ids=lambda value: str(value or "no role"))
def test_it_refuses_a_staff_user_whose_roles_lack_the_permission(
    job: Job, role: str | None, world: World
) -> None:
    answer = job.do(signed_in("outsider", *filter(None, [role])), world)
    # A page answers 403; a list does not offer the action, and posting it runs nothing.
    assert answer.status_code in (403, 200), f"{job} by {role}: {answer.status_code}"
    assert not answer.get("Content-Disposition")
    assert not job.done(world, answer)
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("job", JOBS, ids=str)
def test_it_lets_the_role_do_its_job_and_logs_it(job: Job, world: World) -> None:
    answer = job.do(signed_in("member", job.role), world)
    assert answer.status_code in (200, 302)
    assert job.done(world, answer)
    (entry,) = LogEntry.objects.all()
    assert entry.user.username == "member"
    assert job.message in entry.get_change_message()
    target = job.logged_on(world)
    assert entry.object_id == (str(target.pk) if target is not None else None)
    if target is not None:
        assert entry.content_type.model_class() is type(target)


def test_a_superuser_keeps_every_job(world: World, admin_client: Client) -> None:
    for job in JOBS:
        assert job.done(world, job.do(admin_client, world)), job
    assert LogEntry.objects.count() == len(JOBS)


def offered(client: Client, url: str) -> set[str]:
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["action_form"]  # None: no action at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_each_role_is_offered_only_the_actions_of_its_job(world: World) -> None:
    support, finance = signed_in("support", "support"), signed_in("finance", "finance")
    operations = signed_in("operations", "operations")
    assert offered(support, CHECKOUTS) == {"unlock_connector"}
    assert offered(finance, CHECKOUTS) == {"refund"}
    assert offered(operations, CHECKOUTS) == set()
    assert offered(support, CASES) == {"resolve"}
    assert offered(finance, CASES) == {"link_cdr", "refund", "retry_capture", "retry_refund"}
    assert offered(operations, CASES) == {"resolve"}
    assert offered(operations, EVSES) == {"approve_id_operator"}
    assert offered(support, EVSES) == set()


def test_links_to_pages_a_role_cannot_open_are_not_shown(world: World) -> None:
    support, finance = signed_in("support", "support"), signed_in("finance", "finance")
    change = f"{CHECKOUTS}{world.checkout.pk}/change/"
    refund = f"{CHECKOUTS}{world.checkout.pk}/refund/"
    export = f"{CHECKOUTS}settlement/"
    assert refund not in support.get(change).content.decode()
    assert export not in support.get(CHECKOUTS).content.decode()
    assert refund in finance.get(change).content.decode()
    assert export in finance.get(CHECKOUTS).content.decode()
    assert support.get(refund).status_code == 403
    assert finance.get(refund).status_code == 200
