"""Lists we serve are paginated as T-19 says: offset and limit, date filters, a stable order,
`Link rel="next"` repeating the filters, `X-Total-Count` and `X-Limit`."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from ocpi_peer.client import next_link
from ocpi_peer.models import Partner
from ocpi_peer.transport import OcpiError, OcpiJSONParser, paginate

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def partners() -> None:
    Partner.objects.bulk_create(
        Partner(name=f"P{i:03}", created_at=START + timedelta(minutes=i)) for i in range(250)
    )


def page(query: str, *, max_limit: int = 100) -> tuple[list[str], dict[str, str]]:
    request = Request(
        APIRequestFactory().get(f"/ocpi/2.2.1/things{query}"), parsers=[OcpiJSONParser()]
    )
    response = paginate(
        request,
        Partner.objects.all(),
        lambda rows: [p.name for p in rows],
        max_limit=max_limit,
        updated_field="created_at",
    )
    return response.data["data"], dict(response.headers)


def test_pages_follow_each_other_until_the_last(partners: None, settings) -> None:
    settings.PUBLIC_BASE_URL = "https://emsp.example"
    names, query = [], ""
    while True:
        items, headers = page(query)
        names += items
        assert headers["X-Total-Count"] == "250" and headers["X-Limit"] == "100"
        link = next_link(headers.get("Link", ""))
        if link is None:
            break
        assert link.startswith("https://emsp.example/ocpi/2.2.1/things?")
        query = link.removeprefix("https://emsp.example/ocpi/2.2.1/things")
    assert names == [f"P{i:03}" for i in range(250)]


def test_the_limit_is_capped_and_filters_are_repeated(partners: None) -> None:
    items, headers = page("?limit=500&date_from=2026-01-01T01:00:00Z&date_to=2026-01-01T03:00:00Z")
    assert len(items) == 100 and items[0] == "P060"
    assert headers["X-Total-Count"] == "120"  # 01:00 inclusive to 03:00 exclusive
    link = next_link(headers["Link"])
    assert "date_from=2026-01-01T01%3A00%3A00Z" in link and "offset=100" in link
    last, headers = page(link[link.index("?") :])
    assert len(last) == 20 and "Link" not in headers


@pytest.mark.parametrize("query", ["?offset=-1", "?limit=abc", "?date_from=yesterday"])
def test_bad_parameters_are_a_2001(partners: None, query: str) -> None:
    with pytest.raises(OcpiError) as caught:
        page(query)
    assert caught.value.status == 2001
