"""Tokens, ours and theirs, are encrypted at rest and never shown in full."""

import pytest
from django.db import connection

from ocpi_peer import crypto
from ocpi_peer.models import PartnerToken
from ocpi_peer.registration import register_with_cpo
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_token_is_stored_in_plain_text(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator()
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    ours = cpo.emsp_token
    with connection.cursor() as cursor:
        cursor.execute("SELECT token_encrypted FROM ocpi_peer_partner")
        stored_theirs = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT token_encrypted, token_hash FROM ocpi_peer_partnertoken")
        stored_ours = [value for row in cursor.fetchall() for value in row]
    assert partner.token and all(partner.token not in value for value in stored_theirs)
    assert all(ours not in value for value in stored_ours)
    assert PartnerToken.objects.get(token_hash=crypto.token_hash(ours)).plain == ours


def test_a_masked_token_cannot_be_used() -> None:
    token = crypto.new_token()
    masked = crypto.mask(token)
    assert len(masked) < 8 and token not in masked
    assert crypto.is_valid_token(token) and len(token) >= 43
