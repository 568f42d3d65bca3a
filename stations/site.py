"""What a CPO says about the place beside the price, in the driver's words: who may park at an
EVSE (`parking_restrictions`) and where the electricity comes from (`energy_mix`). Shown only
when the CPO sends them; the caller sets the language (`translation.override`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stations import l10n

# OCPI 2.2.1 ParkingRestriction (2.1.1 has the same values)
PARKING_RESTRICTIONS: Mapping[str, Promise] = MappingProxyType(
    {
        "EV_ONLY": gettext_lazy("Parking for electric vehicles only"),
        "PLUGGED": gettext_lazy("Parking only while plugged in"),
        "DISABLED": gettext_lazy("Parking reserved for disabled people"),
        "CUSTOMERS": gettext_lazy("Parking for customers only"),
        "MOTORCYCLES": gettext_lazy("Parking for motorcycles and scooters only"),
    }
)
# OCPI EnergySourceCategory values that are renewable
RENEWABLE_SOURCES = frozenset({"GENERAL_GREEN", "SOLAR", "WIND", "WATER"})


def parking_restrictions(codes: Any) -> list[dict[str, str]]:
    """Each restriction the CPO sent, with its words; one we do not know is shown as sent."""
    if not isinstance(codes, Iterable) or isinstance(codes, str):
        return []
    out = []
    for code in codes:
        if isinstance(code, str) and code:
            words = PARKING_RESTRICTIONS.get(code.upper())
            out.append({"code": code, "text": str(words) if words is not None else code})
    return out


def energy_mix(mix: Any) -> dict[str, Any] | None:
    """The energy mix in short: green or not, the renewable share of the sources, the supplier
    and product, and a line saying so ("Green energy · 100 % renewable · Stadtwerke, Öko");
    None when the CPO sent none."""
    if not isinstance(mix, Mapping) or not mix:
        return None
    green = mix.get("is_green_energy") is True
    share = _renewable_share(mix.get("energy_sources"))
    supplier = str(mix.get("supplier_name") or "")
    product = str(mix.get("energy_product_name") or "")
    parts = []
    if green:
        parts.append(_("Green energy"))
    if share is not None:
        parts.append(_("%(share)s %% renewable") % {"share": l10n.number(share)})
    named = ", ".join(p for p in (supplier, product) if p)
    if named:
        parts.append(named)
    if not parts:
        return None
    return {
        "is_green_energy": green,
        "renewable_percent": str(share.normalize()) if share is not None else None,
        "supplier_name": supplier,
        "energy_product_name": product,
        "text": " · ".join(parts),
    }


def _renewable_share(sources: Any) -> Decimal | None:
    """The sum of the renewable sources' percentages; None when no source is stated."""
    if not isinstance(sources, Iterable) or isinstance(sources, str):
        return None
    share, stated = Decimal(0), False
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        try:
            percentage = Decimal(str(source.get("percentage")))
        except InvalidOperation:
            continue
        if not percentage.is_finite():
            continue
        stated = True
        if str(source.get("source", "")).upper() in RENEWABLE_SOURCES:
            share += percentage
    return min(share, Decimal(100)) if stated else None
