"""The simulator's Tariffs Sender (checklist §5): a small catalogue the connectors point to.

Tariffs come in plans, alternately for AC and DC connectors: `TARIFF-AC`, `TARIFF-DC`,
`TARIFF-AC-2`, `TARIFF-DC-2`, ... (`tariff_count` of them; each tier 4 cents dearer). Each is a
`REGULAR` tariff as German CPOs write them: a start fee, a price per kWh and a blocking fee per
hour of charging from the fifth hour on, all with 19 % VAT; 0.59 €/kWh incl. VAT for AC and
0.79 €/kWh for DC. With `ad_hoc_tariffs`, every plan has an `AD_HOC_PAYMENT` twin
(`TARIFF-AC-ADHOC`): 10 cents dearer per kWh, no start fee, for the card payer. With
`max_price` (incl. VAT) every 2.2.1 and 2.3.0 tariff caps its sessions there.

Under 2.3.0 a tariff says its prices exclude tax (`tax_included` NO, the VAT on top as before),
writes max_price as a PriceLimit (`before_taxes`, `after_taxes`), and with
`preauthorize_amount` names what a payment terminal provider should hold on the card.

Like the locations, a tariff is a pure function of its number, the version and the fleet, and
its `last_updated` is `EPOCH + number` seconds. Under 2.1.1 a tariff has no `type`, `vat`,
`country_code`/`party_id` or min/max price (checklist §5.6), its prices exclude VAT, and a
connector names one tariff: the twins do not exist there, as nothing could tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, Final
from urllib.parse import quote

import httpx

from .fleet import Fleet
from .peer import Peer
from .transport import (
    InboundRequest,
    OcpiFailure,
    Paging,
    Reply,
    Status,
    format_datetime,
    is_221_shape,
    is_230,
    matching,
    stamp_of,
)

AC_TARIFF_ID: Final = "TARIFF-AC"
DC_TARIFF_ID: Final = "TARIFF-DC"
AD_HOC_SUFFIX: Final = "-ADHOC"
CURRENCY: Final = "EUR"
VAT: Final = Decimal("19.0")
BLOCKING_AFTER_SECONDS: Final = 4 * 3600

# Prices a driver reads, incl. VAT; the tariff states them excl. VAT to 4 decimals (as CPOs do,
# so 0.59 becomes 0.4958 and reads back as 0.590002).
_ENERGY_INCL: Final = {False: Decimal("0.59"), True: Decimal("0.79")}  # by "is DC"
_TIER_STEP: Final = Decimal("0.04")
_AD_HOC_EXTRA: Final = Decimal("0.10")
_START_FEE_INCL: Final = Decimal("0.50")
_BLOCKING_PER_HOUR_INCL: Final = Decimal("6.00")  # 0.10 €/min


@dataclass(frozen=True)
class Plan:
    """One tariff of the catalogue. `number` is its place in the Sender's list."""

    id: str
    number: int
    dc: bool
    tier: int
    ad_hoc: bool


@lru_cache(maxsize=64)
def catalogue(tariff_count: int, *, ad_hoc_tariffs: bool, version: str) -> tuple[Plan, ...]:
    """Every tariff served under `version`, in list order (regular plan, then its twin)."""
    twins = ad_hoc_tariffs and is_221_shape(version)
    plans: list[Plan] = []
    for k in range(tariff_count):
        dc, tier = k % 2 == 1, k // 2
        base = DC_TARIFF_ID if dc else AC_TARIFF_ID
        plan_id = base if tier == 0 else f"{base}-{tier + 1}"
        plans.append(Plan(plan_id, len(plans), dc, tier, ad_hoc=False))
        if twins:
            plans.append(Plan(plan_id + AD_HOC_SUFFIX, len(plans), dc, tier, ad_hoc=True))
    return tuple(plans)


def connector_tariff_ids(
    tariff_count: int, *, ad_hoc_tariffs: bool, version: str, location: int, dc: bool
) -> list[str]:
    """What a connector of location number `location` names: a plan of its kind (AC or DC; AC
    plans for every connector when there is no DC plan), chosen by location, and the plan's
    ad-hoc twin where there is one. Empty when the fleet has no tariffs."""
    regular = [
        plan
        for plan in catalogue(tariff_count, ad_hoc_tariffs=False, version=version)
        if not plan.ad_hoc
    ]
    of_kind = [plan for plan in regular if plan.dc == dc] or regular
    if not of_kind:
        return []
    chosen = of_kind[location % len(of_kind)].id
    if ad_hoc_tariffs and is_221_shape(version):
        return [chosen, chosen + AD_HOC_SUFFIX]
    return [chosen]


def tariff_object(
    plan: Plan,
    version: str,
    *,
    country_code: str,
    party_id: str,
    max_price: Decimal | None = None,
    preauthorize_amount: Decimal | None = None,
) -> dict[str, Any]:
    """The plan as that version's Sender sends it (2.1.1 per checklist §5.6); `max_price`
    (incl. VAT) caps a 2.2+ tariff's sessions; `preauthorize_amount` goes into a 2.3.0 one."""
    modern = is_221_shape(version)
    energy_incl = _ENERGY_INCL[plan.dc] + _TIER_STEP * plan.tier
    if plan.ad_hoc:
        energy_incl += _AD_HOC_EXTRA
    elements: list[dict[str, Any]] = []
    if not plan.ad_hoc:
        elements.append({"price_components": [_component("FLAT", _START_FEE_INCL, modern)]})
    elements.append({"price_components": [_component("ENERGY", energy_incl, modern)]})
    elements.append(
        {
            "price_components": [_component("TIME", _BLOCKING_PER_HOUR_INCL, modern, step_size=60)],
            "restrictions": {"min_duration": BLOCKING_AFTER_SECONDS},
        }
    )
    tariff: dict[str, Any] = {}
    if modern:
        tariff |= {"country_code": country_code, "party_id": party_id}
    tariff |= {"id": plan.id, "currency": CURRENCY}
    if modern:
        tariff["type"] = "AD_HOC_PAYMENT" if plan.ad_hoc else "REGULAR"
    vat_note = "Prices include 19 % VAT." if modern else "Prices exclude VAT."
    tariff["tariff_alt_text"] = [
        {
            "language": "en",
            "text": f"{vat_note} A blocking fee applies from the fifth hour of charging.",
        },
        {
            "language": "de",
            "text": ("Preise inkl. 19 % MwSt." if modern else "Preise zzgl. MwSt.")
            + " Ab der fünften Ladestunde fällt eine Blockiergebühr an.",
        },
    ]
    if modern and max_price is not None:
        excl = (max_price / (1 + VAT / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        if is_230(version):
            tariff["max_price"] = {"before_taxes": excl, "after_taxes": max_price}
        else:
            tariff["max_price"] = {"excl_vat": excl, "incl_vat": max_price}
    if is_230(version) and preauthorize_amount is not None:
        tariff["preauthorize_amount"] = preauthorize_amount
    tariff["elements"] = elements
    if is_230(version):
        tariff["tax_included"] = "NO"
    tariff["last_updated"] = format_datetime(stamp_of(plan.number))
    return tariff


def _component(kind: str, incl_vat: Decimal, modern: bool, *, step_size: int = 1) -> dict[str, Any]:
    excl = (incl_vat / (1 + VAT / 100)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    component: dict[str, Any] = {"type": kind, "price": excl}
    if modern:  # 2.1.1 has no vat field: its prices exclude VAT
        component["vat"] = VAT
    component["step_size"] = step_size
    return component


def find(fleet: Fleet, tariff_id: str, version: str) -> dict[str, Any]:
    """Tariff `tariff_id` of the fleet as served under `version`; ValueError if there is none."""
    plans = catalogue(fleet.tariff_count, ad_hoc_tariffs=fleet.ad_hoc_tariffs, version=version)
    for plan in plans:
        if plan.id == tariff_id:
            return tariff_object(
                plan,
                version,
                country_code=fleet.country_code,
                party_id=fleet.party_id,
                max_price=fleet.max_price,
                preauthorize_amount=fleet.preauthorize_amount,
            )
    raise ValueError(f"no tariff {tariff_id!r} under {version}")


def push_tariff(fleet: Fleet, peer: Peer, tariff_id: str) -> httpx.Response:
    """PUT a tariff, as the agreed version serves it, to the eMSP's Tariffs Receiver
    (`{url}/{cc}/{pid}/{tariff_id}`)."""
    tariff = find(fleet, tariff_id, peer.default_version())
    path = f"tariffs/{fleet.country_code}/{fleet.party_id}/{quote(tariff_id, safe='')}"
    return peer.call_us("PUT", path, json=tariff)


def handle(fleet: Fleet, paging: Paging, request: InboundRequest) -> Reply:
    """GET list, or GET one tariff by id (Sender interface, checklist 5.1)."""
    if request.method != "GET":
        raise OcpiFailure(
            Status.CLIENT_ERROR, "the Tariffs Sender only answers GET", http_status=405
        )
    plans = catalogue(
        fleet.tariff_count, ad_hoc_tariffs=fleet.ad_hoc_tariffs, version=request.version
    )
    if request.segments:
        wanted = request.segments[0]
        found = next((plan for plan in plans if plan.id == wanted), None)
        if found is None or len(request.segments) > 1:
            raise OcpiFailure(Status.CLIENT_ERROR, f"no tariff {wanted!r}", http_status=404)
        return Reply(find(fleet, found.id, request.version))
    return paging.page(
        request,
        matching(len(plans), request.query, {}),
        lambda number: tariff_object(
            plans[number],
            request.version,
            country_code=fleet.country_code,
            party_id=fleet.party_id,
            max_price=fleet.max_price,
            preauthorize_amount=fleet.preauthorize_amount,
        ),
    )
