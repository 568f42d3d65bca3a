"""`manage.py price_cdr --ocpi-version 2.3.0`: an operator recomputes a 2.3.0 CDR, whose total
is a Price before taxes with its taxes, with a 2.3.0 tariff."""

import copy
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import simplejson
from django.core.management import CommandError, call_command

from ocpi_peer.transport import dumps
from tests.ocpi.examples import example

D = Decimal


def write(path: Path, data: object) -> str:
    path.write_bytes(dumps(data))
    return str(path)


def test_it_prices_the_230_cdr_example_with_its_tariff(tmp_path: Path) -> None:
    cdr = example("cdr_example.json", "2.3.0")
    tariff = {**copy.deepcopy(cdr["tariffs"][0]), "tax_included": "NO"}
    out = StringIO()
    call_command(
        "price_cdr",
        write(tmp_path / "tariff.json", tariff),
        write(tmp_path / "cdr.json", cdr),
        "--ocpi-version",
        "2.3.0",
        stdout=out,
    )
    report = simplejson.loads(out.getvalue(), use_decimal=True)
    assert report["rounded_total"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["cdr_total_cost"] == {"excl_vat": D("4.00"), "incl_vat": D("4.40")}
    assert report["difference"] == {"excl_vat": D("0"), "incl_vat": D("0")}


def test_a_230_tariff_without_tax_included_is_refused_naming_the_field(tmp_path: Path) -> None:
    cdr = example("cdr_example.json", "2.3.0")
    with pytest.raises(CommandError, match=r"not an OCPI 2\.3\.0 tariff.*tax_included"):
        call_command(
            "price_cdr",
            write(tmp_path / "tariff.json", cdr["tariffs"][0]),
            write(tmp_path / "cdr.json", cdr),
            "--ocpi-version",
            "2.3.0",
            stdout=StringIO(),
        )
