"""The bucket a request's client is counted in for refused tokens: the same whether it was
worked out just now or kept from an earlier request, with or without trusted proxies."""

import pytest
from django.test import override_settings

from ocpi_peer import clients

FORGED = ", ".join(f"10.0.{i // 250}.{i % 250}" for i in range(60))  # longer than kept ones
METAS = [
    {"REMOTE_ADDR": "203.0.113.7"},
    {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "198.51.100.1"},
    {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.1.1.2"},
    {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_FOR": f"{FORGED}, 2001:db8:1:2::9"},
    {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_FOR": "not an address, 10.1.1.3"},
    {"REMOTE_ADDR": "2001:db8:5:6::1"},
    {"REMOTE_ADDR": "::ffff:192.0.2.9"},
    {"REMOTE_ADDR": ""},
    {},
]


@pytest.mark.parametrize("proxies", [[], ["10.0.0.0/8"]])
@pytest.mark.parametrize("meta", METAS)
def test_a_request_is_counted_where_its_client_address_says(meta, proxies) -> None:
    with override_settings(TRUSTED_PROXIES=proxies):
        address = clients.client_address(meta)
        expected = clients.rate_bucket(address) if address else ""
        assert clients.request_bucket(meta) == expected
        assert clients.request_bucket(dict(meta)) == expected  # kept from the first time


def test_trusting_a_proxy_later_changes_the_bucket_at_once() -> None:
    meta = {"REMOTE_ADDR": "10.1.1.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    with override_settings(TRUSTED_PROXIES=[]):
        assert clients.request_bucket(meta) == "10.1.1.1"
    with override_settings(TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert clients.request_bucket(meta) == "198.51.100.1"
