"""Inviting, registering, rotating, unregistering, pulling and moving a party are jobs of the
operations role, not of every staff account: a user who may only read partners (or has another
role) gets a 403 or is not offered the action, and nothing changes at our end or the CPO's.
Each job done leaves an entry in the admin's log, which never holds a token."""

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.test import Client

from ocpi_peer.models import Partner, PartyOwnership, SyncState
from tests.conftest import StartCpo
from tests.support.roles import signed_in

PARTNERS = "/admin/ocpi_peer/partner/"
READS_PARTNERS = ("ocpi_peer.view_partner", "ocpi_peer.view_partyownership")


def reader() -> Client:
    """A staff user who may look at partners and party owners, and do nothing to them."""
    return signed_in("reader", permissions=READS_PARTNERS)


def logged(partner: Partner) -> list[tuple[str, int, str]]:
    return [
        (entry.user.username, entry.action_flag, entry.get_change_message())
        for entry in LogEntry.objects.filter(object_id=str(partner.pk)).order_by("pk")
    ]


@pytest.mark.django_db
def test_only_operations_may_invite_a_cpo() -> None:
    for refused in (reader(), signed_in("finance", "finance"), signed_in("support", "support")):
        assert refused.get(f"{PARTNERS}invite/").status_code == 403
        assert refused.post(f"{PARTNERS}invite/", {"name": "Sneaky"}).status_code == 403
        assert f"{PARTNERS}invite/" not in refused.get(PARTNERS).content.decode()
    assert not Partner.objects.exists() and not LogEntry.objects.exists()

    operations = signed_in("ops", "operations")
    assert f"{PARTNERS}invite/" in operations.get(PARTNERS).content.decode()
    page = operations.post(f"{PARTNERS}invite/", {"name": "Invited CPO"}).content.decode()
    token_a = re.search(r'id="token-a">([^<]+)<', page).group(1)
    partner = Partner.objects.get(name="Invited CPO")
    assert logged(partner) == [("ops", ADDITION, "Invited: token A minted and shown once")]
    assert not LogEntry.objects.filter(change_message__contains=token_a).exists()


@pytest.mark.django_db(transaction=True)
def test_only_operations_may_register_rotate_unregister_and_pull(
    cpo_simulator: StartCpo, eager_tasks: None
) -> None:
    cpo = cpo_simulator()
    form = {"versions_url": cpo.versions_url, "token": cpo.token_a, "name": "Sim CPO"}
    outsider = reader()
    assert outsider.post(f"{PARTNERS}register/", form).status_code == 403
    assert not Partner.objects.exists() and not cpo.registered

    operations = signed_in("ops", "operations")
    assert operations.post(f"{PARTNERS}register/", form).status_code == 302
    partner = Partner.objects.get(name="Sim CPO")
    token = partner.token
    selected = {"_selected_action": [partner.pk]}
    for name in ("rotate", "unregister", "pull_now"):
        outsider.post(PARTNERS, {"action": name, **selected})
    partner.refresh_from_db()
    assert partner.status == Partner.Status.REGISTERED and partner.token == token
    assert cpo.registered and not SyncState.objects.exists()

    operations.post(PARTNERS, {"action": "pull_now", **selected})
    assert SyncState.objects.filter(partner=partner, module="locations", last_ok=True).exists()
    operations.post(PARTNERS, {"action": "rotate", **selected})
    partner.refresh_from_db()
    assert partner.token != token
    secrets = [cpo.token_a, token, partner.token, cpo.emsp_token]  # emsp: what they call us with
    operations.post(PARTNERS, {"action": "unregister", **selected})
    partner.refresh_from_db()
    assert partner.status == Partner.Status.UNREGISTERED and not cpo.registered

    assert logged(partner) == [
        ("ops", ADDITION, f"Registered with {cpo.versions_url} (OCPI 2.2.1)"),
        ("ops", CHANGE, "Pull queued: locations, tariffs"),
        ("ops", CHANGE, "Tokens rotated (credentials PUT)"),
        ("ops", CHANGE, "Unregistered (credentials DELETE): we unregistered"),
    ]
    assert all(secrets)
    assert not any(s in e.change_message for e in LogEntry.objects.all() for s in secrets)


@pytest.mark.django_db
def test_only_operations_may_move_a_party() -> None:
    direct, hub = Partner.objects.create(name="Direct"), Partner.objects.create(name="Hub")
    owned = PartyOwnership.objects.create(country_code="NL", party_id="SIM", partner=direct)
    url = f"/admin/ocpi_peer/partyownership/{owned.pk}/change/"
    move = {"partner": hub.pk, "note": "now behind the hub"}
    outsider = reader()
    assert outsider.get(url).status_code == 200  # it may look
    assert outsider.post(url, move).status_code == 403
    assert signed_in("support", "support").post(url, move).status_code == 403
    owned.refresh_from_db()
    assert owned.partner == direct and not LogEntry.objects.exists()

    assert signed_in("ops", "operations").post(url, move).status_code == 302
    owned.refresh_from_db()
    assert owned.partner == hub
    (entry,) = LogEntry.objects.all()
    assert (entry.user.username, entry.object_id) == ("ops", str(owned.pk))
    assert entry.get_change_message() == (
        "Changed owner (moved from Direct to Hub): now behind the hub."
    )
