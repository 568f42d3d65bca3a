"""`make demo` runs its simulated CPO in the OCPI version `DEMO_OCPI_VERSION` names."""

import pytest

from config.demo import demo_version


def test_it_runs_a_221_cpo_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEMO_OCPI_VERSION", raising=False)
    assert demo_version() == "2.2.1"
    monkeypatch.setenv("DEMO_OCPI_VERSION", "2.3.0")
    assert demo_version() == "2.3.0"


def test_it_refuses_a_version_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_OCPI_VERSION", "3.0")
    with pytest.raises(SystemExit, match=r"2\.3\.0, 2\.2\.1, 2\.1\.1"):
        demo_version()
