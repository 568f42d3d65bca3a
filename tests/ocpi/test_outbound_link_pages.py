"""`Link` next pages stay on the endpoint's scheme, host and port, and are capped in number."""

import pytest

from ocpi_peer.client import Caller, PeerError
from tests.ocpi.hostile import Handler, Server, ok, serving

pytestmark = pytest.mark.django_db


def test_a_next_page_on_another_host_is_not_followed() -> None:
    with serving(ok) as elsewhere:

        def page(handler: Handler, server: Server) -> None:
            link = f'<{elsewhere.url("/ocpi/cpo/2.2.1/locations?offset=1")}>; rel="next"'
            handler.answer(200, [{"id": "1"}], {"Link": link})

        with serving(page) as partner:
            pages = Caller(token="t", base64_form=True).pages(partner.url("/locations"))
            assert next(pages) == [{"id": "1"}]
            with pytest.raises(PeerError, match="another host"):
                next(pages)
        assert elsewhere.requests == []


def test_next_pages_on_the_same_host_are_followed_up_to_the_cap(settings) -> None:
    settings.OCPI_MAX_PAGES = 3

    def forever(handler: Handler, server: Server) -> None:  # a relative link, always a next
        handler.answer(200, [{"id": "x"}], {"Link": '</locations?offset=1>; rel="next"'})

    with serving(forever) as partner:
        pages = Caller(token="t", base64_form=True).pages(partner.url("/locations"))
        with pytest.raises(PeerError, match="more than 3 pages"):
            list(pages)
        assert partner.requests == ["/locations", "/locations?offset=1", "/locations?offset=1"]
