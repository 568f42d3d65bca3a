"""`manage.py price_cdr TARIFF_JSON CDR_JSON`: an operator recomputes a CDR with a tariff and
sees our total, its parts, what the CDR says and the difference, as exact JSON numbers."""

import copy
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import simplejson
from django.core.management import CommandError, call_command

from ocpi_peer.transport import dumps
from tests.ocpi.examples import example, example_path

D = Decimal
REPO = Path(__file__).resolve().parents[2]

# Vienna: 0.30 €/kWh from 22:00 to 06:00 local time, 0.50 otherwise, a 1.00 start fee; 20 % VAT.
NIGHT_TARIFF = {
    "country_code": "AT",
    "party_id": "VIE",
    "id": "NIGHT",
    "currency": "EUR",
    "elements": [
        {
            "price_components": [{"type": "ENERGY", "price": D("0.30"), "vat": 20, "step_size": 1}],
            "restrictions": {"start_time": "22:00", "end_time": "06:00"},
        },
        {
            "price_components": [
                {"type": "FLAT", "price": D("1.00"), "vat": 20, "step_size": 1},
                {"type": "ENERGY", "price": D("0.50"), "vat": 20, "step_size": 1},
            ]
        },
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}
# 21:30 to 23:30 in Vienna (winter, UTC+1): 5 kWh before 22:00, 10 kWh after. The CDR asks
# 7.00 / 8.40; the tariff gives 2.50 + 3.00 + 1.00 = 6.50 / 7.80.
NIGHT_CDR = {
    "country_code": "AT",
    "party_id": "VIE",
    "id": "CDR1",
    "start_date_time": "2026-01-15T20:30:00Z",
    "end_date_time": "2026-01-15T22:30:00Z",
    "cdr_location": {"country": "AUT", "time_zone": "Europe/Vienna"},
    "currency": "EUR",
    "tariffs": [NIGHT_TARIFF],
    "charging_periods": [
        {
            "start_date_time": "2026-01-15T20:30:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 5}, {"type": "TIME", "volume": D("0.5")}],
            "tariff_id": "NIGHT",
        },
        {
            "start_date_time": "2026-01-15T21:00:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 10}, {"type": "TIME", "volume": 1}],
            "tariff_id": "NIGHT",
        },
        {
            "start_date_time": "2026-01-15T22:00:00Z",
            "dimensions": [{"type": "PARKING_TIME", "volume": D("0.5")}],
            "tariff_id": "NIGHT",
        },
    ],
    "total_cost": {"excl_vat": D("7.00"), "incl_vat": D("8.40")},
    "total_energy": 15,
    "total_time": 2,
    "total_parking_time": D("0.5"),
    "last_updated": "2026-01-15T22:31:00Z",
}


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else dumps(data))
    return str(path)


def price_cdr(tariff: str, cdr: str, *args: str) -> tuple[str, dict[str, Any]]:
    out = StringIO()
    call_command("price_cdr", tariff, cdr, *args, stdout=out)
    return out.getvalue(), simplejson.loads(out.getvalue(), use_decimal=True)


def test_the_official_cdr_example_prices_to_its_own_total(tmp_path: Path) -> None:
    """1.973 h at 2.00 €/h with step 300 s: 2 h, 4.00 / 4.40, as the CDR says."""
    cdr = example("cdr_example.json")
    _, report = price_cdr(write(tmp_path, "tariff.json", cdr["tariffs"][0]), str(_cdr_file()))
    assert report["currency"] == "EUR"
    assert report["time_zone"] == "Europe/Brussels"
    assert report["total_cost"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["rounded_total"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["time"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["energy"] == report["flat"] == report["parking_time"] == report["reservation"]
    assert report["energy"] == {"excl_vat": 0, "incl_vat": 0}
    assert report["cdr_total_cost"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["difference"] == {"excl_vat": 0, "incl_vat": 0}
    assert report["warnings"] == ["total_energy is 15.342 kWh; no period states its energy"]


def _cdr_file() -> Path:
    return example_path("cdr_example.json")


def test_a_cdr_asking_more_than_the_tariff_shows_the_difference_exactly(tmp_path: Path) -> None:
    text, report = price_cdr(
        write(tmp_path, "tariff.json", NIGHT_TARIFF), write(tmp_path, "cdr.json", NIGHT_CDR)
    )
    assert report["time_zone"] == "Europe/Vienna"
    assert report["energy"] == {"excl_vat": D("5.50"), "incl_vat": D("6.60")}
    assert report["flat"] == {"excl_vat": D("1.00"), "incl_vat": D("1.20")}
    assert report["total_cost"] == {"excl_vat": D("6.50"), "incl_vat": D("7.80")}
    assert report["difference"] == {"excl_vat": D("0.50"), "incl_vat": D("0.60")}
    assert report["warnings"] == []
    assert '"difference": {"excl_vat": 0.50, "incl_vat": 0.60}' in text  # exact, not 0.5000001


def test_periods_the_cdr_says_had_no_tariff_cost_nothing(tmp_path: Path) -> None:
    cdr = copy.deepcopy(NIGHT_CDR)
    del cdr["charging_periods"][0]["tariff_id"]  # the 5 kWh at 0.50 before 22:00
    _, report = price_cdr(
        write(tmp_path, "tariff.json", NIGHT_TARIFF), write(tmp_path, "cdr.json", cdr)
    )
    assert report["energy"]["excl_vat"] == D("3.00")


def test_periods_naming_another_tariff_are_priced_with_the_given_one_and_flagged(
    tmp_path: Path,
) -> None:
    cdr = copy.deepcopy(NIGHT_CDR)
    cdr["charging_periods"][1]["tariff_id"] = "day"
    _, report = price_cdr(
        write(tmp_path, "tariff.json", NIGHT_TARIFF), write(tmp_path, "cdr.json", cdr)
    )
    assert report["total_cost"]["excl_vat"] == D("6.50")
    assert report["warnings"] == ["charging periods name tariff DAY; priced with NIGHT"]


def test_a_cdr_whose_own_tariff_differs_is_flagged(tmp_path: Path) -> None:
    cheaper = copy.deepcopy(NIGHT_TARIFF)
    cheaper["elements"][0]["price_components"][0]["price"] = D("0.20")
    _, report = price_cdr(
        write(tmp_path, "tariff.json", cheaper), write(tmp_path, "cdr.json", NIGHT_CDR)
    )
    assert report["energy"]["excl_vat"] == D("4.50")
    assert report["warnings"] == ["the CDR's own tariff NIGHT differs from the one priced"]


def test_a_local_time_tariff_needs_a_zone_which_the_operator_can_give(tmp_path: Path) -> None:
    cdr = copy.deepcopy(NIGHT_CDR)
    cdr["cdr_location"] = {"country": "ESP"}  # no time_zone, and Spain has two clocks
    tariff, cdr_path = write(tmp_path, "tariff.json", NIGHT_TARIFF), write(tmp_path, "c.json", cdr)
    with pytest.raises(CommandError, match="depend on the local time"):
        price_cdr(tariff, cdr_path)
    _, report = price_cdr(tariff, cdr_path, "--time-zone", "Europe/Madrid")
    assert report["time_zone"] == "Europe/Madrid"
    assert report["total_cost"]["excl_vat"] == D("6.50")
    with pytest.raises(CommandError, match="unknown time zone 'Europe/Atlantis'"):
        price_cdr(tariff, cdr_path, "--time-zone", "Europe/Atlantis")


@pytest.mark.parametrize(
    ("tariff", "cdr", "message"),
    [
        (None, NIGHT_CDR, "cannot read the tariff file .*missing.json"),
        (b"{not json", NIGHT_CDR, "the tariff file .* is not JSON"),
        (b"[]", NIGHT_CDR, "the tariff file .* does not hold a JSON object"),
        (NIGHT_CDR, NIGHT_CDR, "not an OCPI 2.2.1 tariff: elements: This field is required"),
        (NIGHT_TARIFF, NIGHT_TARIFF, "not an OCPI 2.2.1 CDR: start_date_time: This field is"),
        (NIGHT_TARIFF, b"\xff\xfe", "the CDR file .* is not JSON"),
        ({**NIGHT_TARIFF, "currency": "USD"}, NIGHT_CDR, "the tariff is in USD, the CDR in EUR"),
    ],
)
def test_bad_files_end_with_a_clear_message(
    tmp_path: Path, tariff: Any, cdr: Any, message: str
) -> None:
    tariff_path = str(tmp_path / "missing.json") if tariff is None else write(tmp_path, "t", tariff)
    with pytest.raises(CommandError, match=message):
        price_cdr(tariff_path, write(tmp_path, "cdr.json", cdr))


def test_a_bad_file_exits_non_zero_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "price_cdr", str(tmp_path / "no.json"), "x.json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "CommandError: cannot read the tariff file" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
