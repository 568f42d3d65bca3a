"""OCPI requests pass by the middleware only browsers need (`config.browser`): what a CPO reads
stays as it was (English, a Content-Length, no cookie), and pages keep every header of theirs."""

import base64

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)

LOCATION = "/ocpi/2.2.1/locations/NL/SIM/LOC1"


def token_header(cpo) -> str:
    return "Token " + base64.b64encode(cpo.emsp_token.encode()).decode()


def test_an_ocpi_answer_is_english_after_a_german_page_in_the_same_thread(connected_cpo) -> None:
    cpo = connected_cpo()
    client = Client()
    page = client.get("/charge/DE*XYZ*E1/", HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "de"  # this thread now speaks German
    answer = client.delete(
        LOCATION, HTTP_AUTHORIZATION=token_header(cpo), HTTP_ACCEPT_LANGUAGE="de"
    )
    assert answer.status_code == 405
    assert answer.json()["status_message"] == 'Method "DELETE" not allowed.'


def test_an_ocpi_answer_has_its_length_and_no_cookie(connected_cpo) -> None:
    cpo = connected_cpo()
    answer = Client().get(LOCATION, HTTP_AUTHORIZATION=token_header(cpo))
    assert answer.status_code == 404 and answer.json()["status_code"] == 2000
    assert int(answer["Content-Length"]) == len(answer.content)
    assert not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
    assert answer["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert answer["X-Content-Type-Options"] == "nosniff"


def test_pages_keep_language_framing_and_csrf() -> None:
    page = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200
    assert page["Content-Language"] == "de"
    assert page["X-Frame-Options"] == "DENY"
    assert "csrftoken" in page.cookies
    assert Client().get("/charge").status_code == 301  # APPEND_SLASH still redirects pages
