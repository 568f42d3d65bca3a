"""`manage.py price_cdr TARIFF_JSON CDR_JSON`: a CDR recomputed with a tariff, for disputes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework import serializers
from simplejson import JSONDecodeError

from ocpi_peer import versions
from ocpi_peer.transport import describe, dumps, loads
from stations import tariffs
from stations.money import UnknownCurrency
from stations.pricing import Price, TariffError


class Command(BaseCommand):
    help = (
        "Price an OCPI CDR's charging periods with a tariff of the same version (2.2.1 unless "
        "--ocpi-version says otherwise) and print JSON: "
        "our total and its parts (exact and rounded), the CDR's total_cost, and the difference "
        "(the CDR's total minus ours). The location's time zone is the CDR's "
        "cdr_location.time_zone, else its country's when the country has only one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tariff_json", help="a Tariff object")
        parser.add_argument("cdr_json", help="a CDR object")
        parser.add_argument(
            "--ocpi-version",
            choices=list(versions.SUPPORTED),
            default="2.2.1",
            help="the OCPI version both objects are written in (default 2.2.1)",
        )
        parser.add_argument(
            "--time-zone",
            help="IANA zone of the location; overrides the CDR's (cdr_location.time_zone, else "
            "its country's single zone)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        spec = versions.get(options["ocpi_version"])
        tariff_data = _load(options["tariff_json"], "tariff")
        cdr_data = _load(options["cdr_json"], "CDR")
        named = _named_tariff(cdr_data)
        self._warn(_fill_unneeded(tariff_data, "the tariff", named))
        embedded = cdr_data.get("tariffs")
        if isinstance(embedded, list):
            for n, item in enumerate(embedded):
                if isinstance(item, dict):
                    self._warn(_fill_unneeded(item, f"the CDR's tariffs[{n}]", named))
        fields: dict[str, Any] = _validate(
            spec, spec.tariff, tariff_data, options["tariff_json"], "tariff"
        )
        cdr = tariffs.cdr_pricing(
            _validate(spec, spec.cdr_pricing, cdr_data, options["cdr_json"], "CDR")
        )
        zone = cdr.time_zone
        if options["time_zone"]:
            zone = tariffs.valid_zone(options["time_zone"])
            if zone is None:
                raise CommandError(f"unknown time zone {options['time_zone']!r}")
        try:
            tariff = tariffs.from_fields(fields, time_zone=zone)
            check = tariffs.check_cdr(cdr, tariff, tariff_id=fields["ocpi_id"])
            rounded = check.cost.rounded_total
        except (TariffError, UnknownCurrency) as error:
            raise CommandError(f"cannot price this CDR: {error}") from None
        except ArithmeticError as error:  # the engine's decimal context traps overflow
            raise CommandError(f"cannot price this CDR: numbers out of range ({error!r})") from None
        cost = check.cost
        report = {
            "currency": cost.currency,
            "tariff_id": fields["ocpi_id"],
            "time_zone": zone,
            "total_cost": _price(cost.total),
            "rounded_total": _price(rounded),
            "energy": _price(cost.energy),
            "time": _price(cost.time),
            "parking_time": _price(cost.parking_time),
            "flat": _price(cost.flat),
            "reservation": _price(cost.reservation),
            "cdr_total_cost": _price(check.cdr_total),
            "difference": _price(check.difference),
            "warnings": list(check.warnings),
        }
        self.stdout.write(dumps(report).decode())

    def _warn(self, warning: str | None) -> None:
        if warning:
            self.stderr.write(f"warning: {warning}")


# Fields of a Tariff that say whose it is and when it changed: pricing reads none of them, and a
# tariff copied out of a dispute often comes without them. Filled in so the rest is still checked.
_UNNEEDED: dict[str, str] = {
    "country_code": "ZZ",
    "party_id": "ZZZ",
    "last_updated": "1970-01-01T00:00:00Z",
}


def _named_tariff(cdr: dict[str, Any]) -> str:
    """The tariff id the CDR's periods name, when they name exactly one: what a tariff without
    an id is taken to be."""
    periods = cdr.get("charging_periods")
    named = {
        p["tariff_id"]
        for p in (periods if isinstance(periods, list) else [])
        if isinstance(p, dict) and isinstance(p.get("tariff_id"), str) and p["tariff_id"]
    }
    return named.pop() if len(named) == 1 else "UNNAMED"


def _fill_unneeded(tariff: dict[str, Any], what: str, tariff_id: str) -> str | None:
    """Fill in what pricing does not need (id, owner, last_updated); a warning naming them."""
    missing = [name for name in ("id", *_UNNEEDED) if tariff.get(name) in (None, "")]
    if not missing:
        return None
    for name in missing:
        tariff[name] = tariff_id if name == "id" else _UNNEEDED[name]
    shown_id = f"; taken as tariff {tariff_id}" if "id" in missing else ""
    return f"{what} has no {', '.join(missing)}: pricing does not need them{shown_id}"


def _load(path: str, what: str) -> dict[str, Any]:
    """A file holding a JSON object; every way it can fail is a CommandError."""
    try:
        data = loads(Path(path).read_bytes())
    except OSError as error:
        raise CommandError(f"cannot read the {what} file {path}: {error.strerror}") from None
    except (JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"the {what} file {path} is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise CommandError(f"the {what} file {path} does not hold a JSON object")
    return data


def _validate(
    spec: Any, serializer: type[serializers.Serializer], data: dict[str, Any], path: str, what: str
) -> Any:
    """The object validated into the serializer's value; invalid is a CommandError."""
    try:
        return spec.read(serializer, data)
    except serializers.ValidationError as error:
        raise CommandError(
            f"the {what} file {path} is not an OCPI {spec.number} {what}: {describe(error.detail)}"
        ) from None


def _price(price: Price) -> dict[str, Any]:
    return {"excl_vat": price.excl_vat, "incl_vat": price.incl_vat}
