"""We never follow a partner's redirect: a 302 could point anywhere, our own network included."""

import pytest

from ocpi_peer.client import Caller, PeerError
from tests.ocpi.hostile import Handler, Server, ok, serving

pytestmark = pytest.mark.django_db


def test_a_redirect_to_a_private_address_is_refused_and_not_followed() -> None:
    with serving(ok) as inside:  # stands for a service on our own network

        def redirect(handler: Handler, server: Server) -> None:
            handler.send_response(302)
            handler.send_header("Location", inside.url("/admin/secrets"))
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with serving(redirect) as partner:
            with pytest.raises(PeerError, match="we do not follow redirects"):
                Caller(token="t", base64_form=True).call("GET", partner.url())
            assert partner.requests == ["/ocpi/versions"]
        assert inside.requests == []
