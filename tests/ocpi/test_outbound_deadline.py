"""Each outbound call has one deadline (OCPI_CALL_DEADLINE), not one per read: a partner that
dribbles its answer cannot hold a worker past it."""

import time

import pytest

from ocpi_peer.client import Caller, PeerError
from tests.ocpi.hostile import Handler, Server, serving

pytestmark = pytest.mark.django_db


def _dribble(handler: Handler, server: Server) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    while not server.stopping.wait(0.1):  # a byte well within every read timeout
        handler.wfile.write(b" ")
        handler.wfile.flush()


def _silent(handler: Handler, server: Server) -> None:
    server.stopping.wait(30)  # accepts the request and never answers


@pytest.mark.parametrize("answer", [_dribble, _silent], ids=["dribbling", "silent"])
def test_a_slow_partner_is_cut_at_the_calls_deadline(settings, answer) -> None:
    settings.OCPI_CALL_DEADLINE = 1.0
    with serving(answer) as partner:
        started = time.monotonic()
        with pytest.raises(PeerError, match="in time") as cut:
            Caller(token="t", base64_form=True).call("GET", partner.url())
        took = time.monotonic() - started
    assert 0.9 < took < 3.0
    assert cut.value.transient
