"""The fake Stripe wrapper: localstripe on loopback only, its state in the file we name."""

import socket
from pathlib import Path

import httpx
import pytest

from tests.support.localstripe import SECRET_KEY, running


def outward_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") else address


def accepts(host: str, port: int, family: socket.AddressFamily = socket.AF_INET) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def test_the_fake_keeps_its_state_in_the_named_file(tmp_path: Path) -> None:
    with running(tmp_path) as base_url:
        created = httpx.post(
            f"{base_url}/v1/setup_intents",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            data={"usage": "on_session"},
        )
        assert created.status_code == 200
        state = tmp_path / "state.pickle"
        assert state.is_file()
        assert created.json()["id"].encode() in state.read_bytes()


def test_the_fake_starts_from_scratch_unless_asked_to_resume(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {SECRET_KEY}"}
    with running(tmp_path) as base_url:
        setup = httpx.post(f"{base_url}/v1/setup_intents", headers=auth).json()["id"]
    with running(tmp_path, resume=True) as base_url:
        assert httpx.get(f"{base_url}/v1/setup_intents/{setup}", headers=auth).status_code == 200
    with running(tmp_path) as base_url:
        assert httpx.get(f"{base_url}/v1/setup_intents/{setup}", headers=auth).status_code == 404


def test_the_fake_listens_on_loopback_only(tmp_path: Path) -> None:
    with running(tmp_path) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        assert accepts("127.0.0.1", port)
        if socket.has_ipv6:
            assert not accepts("::1", port, socket.AF_INET6)
        address = outward_address()
        if address is None:
            pytest.skip("no address other than loopback to try")
        assert not accepts(address, port)


def test_the_fake_takes_stripes_current_name_for_the_allowed_card_types(tmp_path: Path) -> None:
    """Stripe's API since 2026-09-30 refuses `payment_method_types` on create and takes
    `allowed_payment_method_types`; localstripe knows only the old name."""
    with running(tmp_path) as base_url:
        created = httpx.post(
            f"{base_url}/v1/setup_intents",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            data={"usage": "on_session", "allowed_payment_method_types[0]": "card"},
        )
        assert created.status_code == 200, created.text
        assert created.json()["payment_method_types"] == ["card"]
        unknown = httpx.post(
            f"{base_url}/v1/setup_intents",
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            data={"usage": "on_session", "no_such_parameter": "x"},
        )
        assert unknown.status_code == 400  # the rest is as strict as ever
