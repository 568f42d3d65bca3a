"""`manage.py price_cdr` with a tariff or CDR copied without what pricing does not read (ids,
owner, `last_updated`): priced all the same, with a warning naming what was missing."""

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import simplejson
from django.core.management import CommandError, call_command

from ocpi_peer.transport import dumps
from tests.ocpi.examples import example, example_path

OWNERSHIP = ("id", "country_code", "party_id", "last_updated")


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_bytes(dumps(data))
    return str(path)


def price_cdr(tariff: str, cdr: str) -> tuple[dict[str, Any], str]:
    out, err = StringIO(), StringIO()
    call_command("price_cdr", tariff, cdr, stdout=out, stderr=err)
    return simplejson.loads(out.getvalue(), use_decimal=True), err.getvalue()


def test_it_prices_the_official_put_example_which_has_no_last_updated() -> None:
    report, warnings = price_cdr(
        str(example_path("tariff_put_example.json")), str(example_path("cdr_example.json"))
    )
    assert report["total_cost"]["incl_vat"] == simplejson.loads("4.40", use_decimal=True)
    assert "the tariff has no last_updated: pricing does not need them" in warnings


def test_it_prices_a_tariff_and_a_cdr_stripped_of_ids_owner_and_dates(tmp_path: Path) -> None:
    cdr = example("cdr_example.json")
    tariff = {k: v for k, v in cdr["tariffs"][0].items() if k not in OWNERSHIP}
    cdr = {k: v for k, v in cdr.items() if k not in OWNERSHIP}
    cdr["tariffs"] = [tariff]
    report, warnings = price_cdr(write(tmp_path, "t.json", tariff), write(tmp_path, "c.json", cdr))
    # the periods name tariff 12: the tariff without an id is taken to be that one
    assert report["tariff_id"] == "12"
    assert report["difference"] == {"excl_vat": 0, "incl_vat": 0}
    assert not any("name tariff" in w for w in report["warnings"])
    assert (
        "the tariff has no id, country_code, party_id, last_updated: pricing does not need "
        "them; taken as tariff 12" in warnings
    )
    assert "the CDR's tariffs[0] has no id, country_code, party_id, last_updated" in warnings


def test_it_still_refuses_a_tariff_without_what_pricing_reads(tmp_path: Path) -> None:
    tariff = {k: v for k, v in example("cdr_example.json")["tariffs"][0].items() if k != "elements"}
    with pytest.raises(CommandError, match="elements: This field is required"):
        price_cdr(write(tmp_path, "t.json", tariff), str(example_path("cdr_example.json")))
