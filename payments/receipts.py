"""Receipts: what a settled checkout is printed as, on the page, in the PDF and in the e-mail.

`receipt_for(checkout)` gathers everything a receipt shows into one plain value (`Receipt`), in
numbers and codes, not words: the templates, the PDF and the e-mail say it in the driver's
language. Up to €250 gross it is a German small-amount invoice (Kleinbetragsrechnung, § 33
UStDV: the seller's name and address, the date, quantity and kind of the service, the gross
amount and the VAT rate). Above that it is a full invoice (§ 14 UStG): it adds the recipient's
name and address (the driver's invoice details, `payments.invoice_details`; without them it
says that a full invoice needs them and links to the form for them), the seller's VAT id, the
date of supply (the session's end) and the net amount and VAT per rate (one rate per receipt).
The threshold applies to the gross amount in EUR; the platform converts no currency, so a
receipt in another currency is measured by its amount as it stands (`FULL_INVOICE_ABOVE`).
Details entered later are shown by the page and the PDF from then on; nothing is e-mailed
again. Who sells follows the CPO party's terms (`CpoTerms.merchant_of_record`): "platform", we
sell the charge and name the CPO as operator; "cpo", the CPO sells and we collect as its payment
service (ARCHITECTURE.md "Money").

A receipt stays as it was sent: its figures are what was charged at settlement, from the CDR
that settled it. A later refund is a credit note of its own (`CreditNote`, `credit_note_for`),
listed below the receipt, never folded into its total.

The figures:
- cost by dimension: the price shown to the driver (the checkout's tariff snapshot) applied to
  the CDR's quantities, as settlement prices it;
- the amount paid: what the ledger says was captured at settlement. It is the gross amount of
  the receipt; when it differs from the priced total (we capture the lower of the CDR, the price
  shown and the hold), the difference is a line of its own, explained in words
  (`adjustment_text`);
- VAT: the rate the tariff applied (the location country's rate when it states none); the net
  and the VAT amount are taken out of the amount paid.

Calibration law (Eichrecht): a CDR's `signed_data` is shown as received (signed meter values,
encoding, public key) with the verdict of `payments.ocmf` in plain words, the signed start and
end readings with their times and the meter's serial, and what `payments.eichrecht` found
beside the signature (the meter key against the one pinned for the EVSE, the signed
identification against the driver's token, the reading times against the session's). Other
encodings are shown raw for the driver's transparency software. The signed data itself is
downloadable as the CDR carried it (`signed_data_text`) and as the transparency software's XML
(`transparency_xml`).

The e-mail that carries a receipt (with its PDF) is `payments.receipt_mail`'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ocpi_peer.models import PartnerParty
from payments import eichrecht, exports, ocmf, settlement, terminals
from payments.invoice_details import NO_DETAILS, InvoiceDetails
from payments.models import (
    Cdr,
    ChargingSession,
    Checkout,
    CpoTerms,
    CreditNote,
    LedgerEntry,
    receipt_number,
)
from stations import l10n, tariffs
from stations.money import Money
from stations.pricing import SessionCost

logger = logging.getLogger(__name__)

_ZERO = Decimal(0)

# Above this gross amount a German invoice must be a full one (§ 33 UStDV, § 14 UStG). In EUR;
# no exchange rate is kept, so another currency's amount is compared as it is.
FULL_INVOICE_ABOVE = Decimal("250.00")


class NoReceipt(Exception):
    """There is no receipt (yet) for this checkout. `reason`: "not_settled" while it may still
    come (charging, waiting for the CDR), "nothing_charged" for a checkout that failed or
    expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the value --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """Who sells (the CPO) or who collects (us): as far as we know them."""

    name: str
    party: str  # OCPI country code * party id, e.g. "DE*ABC"
    address: str = ""  # postal address, one line per "\n"
    website: str = ""
    vat_id: str = ""


@dataclass(frozen=True)
class CostItem:
    """One dimension of the price: energy (kWh), time and parking (hours), flat (once)."""

    dimension: str  # "energy", "time", "parking", "flat", "reservation", "adjustment"
    quantity: Decimal | None  # kWh or hours; None for flat fees and the adjustment
    excl_vat: Decimal  # rounded to the currency's minor unit
    incl_vat: Decimal | None


@dataclass(frozen=True)
class SignedValue:
    nature: str
    status: str  # ocmf Item status: valid, invalid, cannot_verify, unreadable, not_verified
    note: str  # English, from payments.ocmf
    plain_data: str
    signed_data: str

    @property
    def status_text(self) -> str:
        """The outcome in the active language (`note` is the English detail)."""
        return value_status_text(self.status)


@dataclass(frozen=True)
class Calibration:
    """The CDR's signed meter data, as received, and what our check of it says."""

    encoding: str
    encoding_version: str
    public_key: str
    url: str
    values: tuple[SignedValue, ...]
    verdict: str  # see VERDICTS
    summary: str  # English, from payments.ocmf: the details behind the verdict
    meter: str
    energy_status: str
    billed_kwh: Decimal | None
    signed_kwh: Decimal | None
    start_kwh: Decimal | None
    end_kwh: Decimal | None
    meter_serial: str = ""
    start_time: datetime | None = None  # the signed begin reading's time, as the meter wrote it
    end_time: datetime | None = None
    findings: eichrecht.Findings = eichrecht.NOTHING

    @property
    def ok(self) -> bool:
        return self.verdict == "valid"

    @property
    def verdict_text(self) -> str:
        """The verdict in plain words, in the active language."""
        return verdict_text(self)


@dataclass(frozen=True)
class CreditNoteLine:
    """A credit note as the receipt lists it: number, date and amount (incl. VAT)."""

    number: str
    issued_at: datetime
    amount: Decimal


@dataclass(frozen=True)
class Receipt:
    number: str
    public_id: str
    locale: str
    issued_at: datetime  # settlement, UTC
    seller: Party
    payment_service: Party
    operator: Party  # the CPO whose charger it is (the seller too when it is merchant of record)
    merchant_of_record: str  # "platform" (we sell) or "cpo" (it sells, we collect)
    location_name: str
    address: str
    postal_code: str
    city: str
    country: str
    evse_id: str
    connector_id: str
    time_zone: str
    start: datetime | None  # in the location's zone
    end: datetime | None
    energy_kwh: Decimal
    currency: str
    costs: tuple[CostItem, ...]
    priced_incl_vat: Decimal | None  # the price shown applied to the CDR, before any cap
    total_excl_vat: Decimal | None
    vat_rate: Decimal | None  # percent
    vat_amount: Decimal | None
    total_incl_vat: Decimal  # the amount paid: captured at settlement
    held: Decimal
    captured: Decimal
    refunded: Decimal
    released: Decimal
    card_brand: str
    card_last4: str
    authorization_reference: str
    cdr_id: str
    calibration: Calibration | None
    operator_bill: Decimal | None = None  # the CDR's total incl. VAT: what the CPO billed
    credit_notes: tuple[CreditNoteLine, ...] = ()
    recipient: InvoiceDetails = NO_DETAILS  # the driver's invoice details, as entered
    # 2.3.0: the CPO invoices the driver (its CDR's `invoice_reference_id`); where its invoice is.
    cpo_invoice_url: str = ""

    @property
    def full_invoice(self) -> bool:
        """Above €250 gross the receipt must be a full invoice (§ 14 UStG)."""
        return self.total_incl_vat > FULL_INVOICE_ABOVE

    def money(self, amount: Decimal | None) -> str:
        """An amount as the active language writes it: "12,34 €" / "€12.34", "-€0.20"."""
        return "–" if amount is None else l10n.amount(amount, self.currency)

    @property
    def card(self) -> str:
        brand = CARD_BRANDS.get(self.card_brand.lower(), self.card_brand.title())
        return f"{brand} •••• {self.card_last4}" if self.card_last4 else brand


CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires",
}

VERDICTS = (
    "valid",  # every signature holds and the billed energy is what the signed readings say
    "tampered",  # a signature does not match its data
    "energy_mismatch",  # signatures hold, the billed energy differs from the readings
    "cannot_verify",  # no usable key or a curve we cannot check
    "unreadable",  # not OCMF we can read
    "not_verified",  # another encoding: for the driver's transparency software
    "incomplete",  # signatures hold, but the readings cannot establish the energy
    "key_changed",  # signed under another key than the one pinned for this EVSE's meter
    "identification_mismatch",  # the meter signed the session for another token
    "time_mismatch",  # the signed readings' times are not the session's
)


# --- gathering --------------------------------------------------------------------------------


def receipt_for(checkout: Checkout) -> Receipt:
    """Everything the receipt of a settled checkout shows. Raises NoReceipt before settlement."""
    if checkout.status != Checkout.Status.SETTLED:
        final = checkout.status in (Checkout.Status.FAILED, Checkout.Status.EXPIRED)
        raise NoReceipt("nothing_charged" if final else "not_settled")
    location = checkout.evse.location
    zone_name = tariffs.zone_for(location) or "UTC"
    zone = ZoneInfo(zone_name)
    cdr = settled_cdr(checkout)
    session = checkout.sessions.order_by("-last_updated").first()
    ledger = exports.ledger_sums([checkout.pk])[checkout.pk]
    currency = checkout.currency
    # What was charged at settlement: refunds are credit notes, a dispute changes nothing sold.
    paid_amount = Money.from_minor(ledger.captured, currency).amount
    cost = _priced(checkout, cdr) if cdr is not None else None
    rate = _vat_rate(checkout, cost, cdr)
    net, vat = _split(paid_amount, rate, currency)
    start, end = _times(cdr, session)
    operator, merchant = _operator(checkout)
    cpo_invoice = terminals.cpo_invoice_url(checkout, cdr)
    if cpo_invoice:  # the CPO's invoice sells the charge; we collected as payment service
        merchant = CpoTerms.MerchantOfRecord.CPO
    us = Party(
        name=settings.PLATFORM_LEGAL_NAME or settings.OCPI_BUSINESS_NAME,
        party=f"{settings.OCPI_COUNTRY_CODE}*{settings.OCPI_PARTY_ID}",
        address=settings.PLATFORM_LEGAL_ADDRESS,
        vat_id=settings.PLATFORM_VAT_ID,
    )
    return Receipt(
        number=receipt_number(checkout),
        public_id=checkout.public_id,
        locale=l10n.known_locale(checkout.locale),
        issued_at=checkout.settled_at or timezone.now(),
        seller=us if merchant == CpoTerms.MerchantOfRecord.PLATFORM else operator,
        payment_service=us,
        operator=operator,
        merchant_of_record=merchant,
        location_name=location.name,
        address=location.address,
        postal_code=location.postal_code,
        city=location.city,
        country=location.country,
        evse_id=checkout.evse.evse_id or checkout.evse.uid,
        connector_id=checkout.connector.connector_id,
        time_zone=zone_name,
        start=start.astimezone(zone) if start else None,
        end=end.astimezone(zone) if end else None,
        energy_kwh=cdr.total_energy if cdr is not None else (session.kwh if session else _ZERO),
        currency=currency,
        costs=_costs(cost, paid_amount, currency),
        priced_incl_vat=cost.total.incl_vat if cost is not None else None,
        total_excl_vat=net,
        vat_rate=rate,
        vat_amount=vat,
        total_incl_vat=paid_amount,
        held=Money.from_minor(ledger.held, currency).amount,
        captured=Money.from_minor(ledger.captured, currency).amount,
        refunded=Money.from_minor(ledger.refunded, currency).amount,
        released=Money.from_minor(ledger.released, currency).amount,
        card_brand=checkout.card_brand,
        card_last4=checkout.card_last4,
        authorization_reference=checkout.authorization_reference or "",
        cdr_id=cdr.cdr_id if cdr is not None else "",
        calibration=calibration_for(cdr, checkout) if cdr is not None else None,
        operator_bill=settlement.cdr_total_incl_vat(checkout, cdr) if cdr is not None else None,
        credit_notes=tuple(
            CreditNoteLine(
                note.number, note.issued_at, Money.from_minor(note.amount_minor, currency).amount
            )
            for note in checkout.credit_notes.order_by("sequence")
        ),
        recipient=InvoiceDetails.of(checkout),
        cpo_invoice_url=cpo_invoice,
    )


def settled_cdr(checkout: Checkout) -> Cdr | None:
    """The CDR the checkout was settled by (the first one booked as payable to the CPO), so
    the receipt stays as it was sent when a credit or a corrected CDR comes later; without
    one (a hold settled from the last Session), the CDR that bills it now."""
    first = (
        LedgerEntry.objects.filter(
            checkout=checkout, kind=LedgerEntry.Kind.PAYABLE, idempotency_key__startswith="payable:"
        )
        .order_by("created_at", "pk")
        .values_list("idempotency_key", flat=True)
        .first()
    )
    if first is not None:
        pk = first.removeprefix("payable:")
        cdr = checkout.cdrs.filter(pk=int(pk)).first() if pk.isdigit() else None
        if cdr is not None and not cdr.credit:
            return cdr
    return billing_cdr(checkout)


def billing_cdr(checkout: Checkout) -> Cdr | None:
    """The CDR that bills the checkout now: the latest one not credited by a credit CDR."""
    cdrs = list(checkout.cdrs.order_by("received_at", "pk"))
    standing = settlement.standing_cdrs(cdrs)
    if standing:
        return standing[-1]
    return next((c for c in reversed(cdrs) if not c.credit), None)


def _operator(checkout: Checkout) -> tuple[Party, str]:
    """The CPO whose charger it is, and who sells (its terms' merchant of record, "platform"
    without terms): the business details of its party, else the location's operator, else the
    connection's name. Its legal details (address, VAT id) come from the party's CPO terms when
    an operator has entered them there."""
    location = checkout.evse.location
    country_code, party_id = location.country_code.upper(), location.party_id.upper()
    party = (
        PartnerParty.objects.filter(
            partner=checkout.partner, role="CPO", country_code=country_code, party_id=party_id
        )
        .exclude(business_name="")
        .first()
    )
    terms = CpoTerms.objects.filter(country_code=country_code, party_id=party_id).first()
    name = (
        (terms.legal_name if terms else "")
        or (party.business_name if party else "")
        or (location.operator or {}).get("name")
        or checkout.partner.name
    )
    merchant = terms.merchant_of_record if terms else CpoTerms.MerchantOfRecord.PLATFORM
    return Party(
        name=name,
        party=f"{country_code}*{party_id}",
        address=(terms.legal_address if terms else "") or "",
        website=(party.website if party else "") or (location.operator or {}).get("website", ""),
        vat_id=(terms.vat_id if terms else "") or "",
    ), str(merchant)


def _times(cdr: Cdr | None, session: ChargingSession | None) -> tuple[datetime | None, ...]:
    if cdr is not None:
        return cdr.start, cdr.end
    if session is not None:
        return session.start, session.end
    return None, None


def _priced(checkout: Checkout, cdr: Cdr) -> SessionCost | None:
    """The price shown applied to the CDR's quantities, as settlement computes it; None when it
    cannot be (settlement has flagged that for an operator)."""
    try:
        return settlement.shown_cost(checkout, cdr.version, cdr.body)
    except settlement.UNPRICEABLE as exc:
        logger.info("receipt of checkout %s without a breakdown: %s", checkout.pk, exc)
        return None


def _vat_rate(checkout: Checkout, cost: SessionCost | None, cdr: Cdr | None) -> Decimal | None:
    """The rate the price shown applied; else the CDR's own; else the country's."""
    if cost is not None:
        rates = {line.vat for line in cost.lines if line.cost.excl_vat and line.vat is not None}
        if len(rates) == 1:
            return rates.pop()
    if cdr is not None and cdr.total_cost_incl_vat is not None and cdr.total_cost_excl_vat:
        ratio = (cdr.total_cost_incl_vat / cdr.total_cost_excl_vat - 1) * 100
        return ratio.quantize(Decimal("0.1")).normalize()
    return tariffs.vat_rate(checkout.evse.location.country)


def vat_share(checkout: Checkout, cdrs: list[Cdr], gross_minor: int) -> int | None:
    """The VAT in `gross_minor` (what the driver paid, minor units) at the rate the receipt
    would state without pricing the CDR again (the settling CDR's own rate, else the country's),
    split as `_split` splits it; None when no rate is known. For the settlement export."""
    regular = [cdr for cdr in cdrs if not cdr.credit]
    cdr = max(regular, key=lambda c: c.received_at) if regular else None
    rate = _vat_rate(checkout, None, cdr)
    currency = checkout.currency
    _, vat = _split(Money.from_minor(gross_minor, currency).amount, rate, currency)
    return None if vat is None else Money(vat, currency).to_minor()


def _split(
    gross: Decimal, rate: Decimal | None, currency: str
) -> tuple[Decimal | None, Decimal | None]:
    """Net and VAT taken out of a gross amount (rounded once, the VAT is the rest)."""
    if rate is None:
        return None, None
    net = Money(gross / (1 + rate / 100), currency).rounded().amount
    return net, gross - net


_DIMENSIONS = (
    ("flat", "flat", "FLAT"),
    ("energy", "energy", "ENERGY"),
    ("time", "time", "TIME"),
    ("parking", "parking_time", "PARKING_TIME"),
    ("reservation", "reservation", None),
)


def _costs(cost: SessionCost | None, paid: Decimal, currency: str) -> tuple[CostItem, ...]:
    if cost is None:
        return ()
    items: list[CostItem] = []
    for name, field, dimension in _DIMENSIONS:
        price = getattr(cost, field)
        lines = [
            line for line in cost.lines if line.dimension == dimension and not line.reservation
        ]
        if not price.excl_vat and not (name == "energy" and lines):
            continue
        quantity = None
        if name in ("energy", "time", "parking"):
            quantity = sum((line.quantity for line in lines), _ZERO)
        rounded = price.rounded(currency)
        items.append(CostItem(name, quantity, rounded.excl_vat, rounded.incl_vat))
    listed = sum((item.incl_vat or item.excl_vat for item in items), _ZERO)
    if listed != paid:  # min/max price, the lower CDR or hold; or a cent of rounding
        items.append(CostItem("adjustment", None, _ZERO, paid - listed))
    return tuple(items)


# --- calibration law --------------------------------------------------------------------------


def calibration_for(cdr: Cdr, checkout: Checkout | None = None) -> Calibration | None:
    """The CDR's signed data and what we found in it; with the checkout, also how it relates to
    the session, the driver's token and the EVSE's meter key (`payments.eichrecht`)."""
    signed = eichrecht.signed_data_of(cdr)
    if signed is None:
        return None
    report = ocmf.check_cdr_signed_data(signed, cdr.total_energy)
    findings = eichrecht.findings_for(cdr, checkout)
    raw_values = signed.get("signed_values")
    raw_values = raw_values if isinstance(raw_values, list) else []
    values = []
    for item in report.items:
        raw = raw_values[item.index] if item.index < len(raw_values) else {}
        raw = raw if isinstance(raw, dict) else {}
        values.append(
            SignedValue(
                nature=item.nature,
                status=item.status,
                note=item.note,
                plain_data=_text(raw.get("plain_data")),
                signed_data=_text(raw.get("signed_data")),
            )
        )
    energy = report.energy
    first = next((i.verification for i in report.items if i.verification is not None), None)
    serial = first.meter_serial or first.gateway_serial if first is not None else None
    return Calibration(
        encoding=_text(signed.get("encoding_method")),
        encoding_version=_text(signed.get("encoding_method_version")),
        public_key=_text(signed.get("public_key")),
        url=_text(signed.get("url")),
        values=tuple(values),
        verdict=_verdict(report, findings),
        summary=report.summary,
        meter=_meter_model(first),
        energy_status=energy.status,
        billed_kwh=energy.billed_kwh if energy.billed_kwh is not None else cdr.total_energy,
        signed_kwh=energy.signed_kwh,
        start_kwh=energy.start.kwh if energy.start is not None else None,
        end_kwh=energy.end.kwh if energy.end is not None else None,
        meter_serial=serial or "",
        start_time=energy.start.time if energy.start is not None else None,
        end_time=energy.end.time if energy.end is not None else None,
        findings=findings,
    )


def _meter_model(verification: ocmf.Verification | None) -> str:
    """The meter's maker and model as it names them (its serial is a line of its own)."""
    if verification is None:
        return ""
    v = verification
    parts = [v.meter_vendor, v.meter_model] if v.meter_vendor or v.meter_model else [v.gateway_id]
    return " ".join(part for part in parts if part)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _verdict(report: ocmf.Report, findings: eichrecht.Findings = eichrecht.NOTHING) -> str:
    """One word for the driver; a signature under a key that is not this meter's, or signed
    data of another session, is never "valid", however well it verifies."""
    statuses = {item.status for item in report.items}
    if "invalid" not in statuses and findings.key_changed:
        return "key_changed"
    if report.all_good and findings.identification == "mismatch":
        return "identification_mismatch"
    if report.all_good and findings.times == "mismatch":
        return "time_mismatch"
    if report.all_good:
        return "valid"
    if "invalid" in statuses:
        return "tampered"
    if "not_verified" in statuses:
        return "not_verified"
    if not report.items or "unreadable" in statuses:
        return "unreadable"
    if "cannot_verify" in statuses:
        return "cannot_verify"
    if report.energy.status == "mismatch":
        return "energy_mismatch"
    return "incomplete"


def verdict_text(calibration: Calibration) -> str:
    """The verdict in plain words, in the active language."""
    kwh = {
        "billed": number_text(calibration.billed_kwh),
        "signed": number_text(calibration.signed_kwh),
        "encoding": calibration.encoding or "?",
    }
    texts = {
        "valid": _(
            "Everything checks out: the meter's signature is valid, and the billed energy is "
            "what the signed meter readings say (%(signed)s kWh)."
        ),
        "tampered": _(
            "Warning: the signature does not match the meter data. The data was changed after "
            "the meter signed it, or the key is not this meter's. Please contact the operator."
        ),
        "energy_mismatch": _(
            "Warning: the billed energy (%(billed)s kWh) is not what the signed meter readings "
            "say (%(signed)s kWh). Please contact the operator."
        ),
        "cannot_verify": _(
            "The signature cannot be checked here; you can check it with the transparency software."
        ),
        "unreadable": _("The signed meter data cannot be read."),
        "not_verified": _(
            "The signed meter data is encoded as %(encoding)s, which we do not check here: "
            "check it with the transparency software."
        ),
        "incomplete": _(
            "The signatures are valid, but the signed readings do not establish the billed "
            "energy (%(billed)s kWh)."
        ),
        "key_changed": _(
            "Warning: the meter data is signed with another key than the one on record for "
            "this charger's meter. The meter may have been replaced, or the data was not signed "
            "by this meter. We are looking into it; please keep this receipt."
        ),
        "identification_mismatch": _(
            "Warning: the meter signed these readings for another card or session than your "
            "payment. We are looking into it; please keep this receipt."
        ),
        "time_mismatch": _(
            "Warning: the times the meter signed are not those of your charging session. We "
            "are looking into it; please keep this receipt."
        ),
    }
    return texts[calibration.verdict] % kwh


def calibration_lines(c: Calibration, zone: ZoneInfo) -> list[tuple[str, str]]:
    """The signed readings and what we found beside the signature, as (label, text) in the
    active language, times in the location's zone: the page, the PDF and the e-mail alike."""

    def reading(kwh: Decimal | None, moment: datetime | None) -> str:
        if kwh is None:
            return "–"
        when = local_time(moment.astimezone(zone)) if moment is not None else "–"
        return _("%(kwh)s kWh at %(time)s") % {"kwh": number_text(kwh), "time": when}

    found = c.findings
    since = local_time(found.pinned_at.astimezone(zone)) if found.pinned_at else "–"
    lines = [
        (_("Meter serial number"), c.meter_serial or "–"),
        (_("Signed start reading"), reading(c.start_kwh, c.start_time)),
        (_("Signed end reading"), reading(c.end_kwh, c.end_time)),
        (_("Signed energy"), f"{number_text(c.signed_kwh)} kWh"),
    ]
    key = {
        "first_seen": _("first seen with this charging session; on record for this charger"),
        "on_record": _("the key on record for this charger's meter since %(since)s"),
        "changed": _("differs from the key on record for this charger's meter since %(since)s"),
    }.get(found.key)
    if key:
        lines.append((_("Meter key"), key % {"since": since}))
    who = {
        "match": _("your payment (%(id)s)"),
        "mismatch": _("not your payment (%(id)s)"),
        "absent": _("not part of the signed data"),
    }.get(found.identification)
    if who:
        lines.append((_("Signed identification"), who % {"id": found.identified_as}))
    times = {
        "match": _("those of your charging session"),
        "mismatch": _("not those of your charging session"),
    }.get(found.times)
    if times:
        lines.append((_("Signed times"), times))
    return lines


def value_status_text(status: str) -> str:
    """One signed value's outcome in the active language."""
    return {
        "valid": _("signature valid"),
        "invalid": _("signature does not match"),
        "cannot_verify": _("signature not checked here"),
        "unreadable": _("unreadable"),
        "not_verified": _("not checked here"),
    }.get(status, status)


def number_text(value: Decimal | None) -> str:
    return "–" if value is None else l10n.number(value)


# --- words for the dimensions, shared by the page, the PDF and the e-mail ---------------------


def cost_label(item: CostItem) -> str:
    if item.dimension == "energy":
        return _("Energy: %(kwh)s kWh") % {"kwh": number_text(item.quantity)}
    if item.dimension in ("time", "parking"):
        hours = item.quantity or _ZERO
        minutes = int((hours * 60).to_integral_value())
        duration = f"{minutes // 60} h {minutes % 60:02d} min"
        if item.dimension == "time":
            return _("Charging time: %(duration)s") % {"duration": duration}
        return _("Parking time: %(duration)s") % {"duration": duration}
    return {
        "flat": _("Session fee"),
        "reservation": _("Reservation"),
        "adjustment": _("Adjustment to the amount charged"),
    }[item.dimension]


def local_time(moment: datetime | None) -> str:
    """A time in the location's zone (already converted), as the active language writes it."""
    return "–" if moment is None else l10n.moment(moment)


def rate_text(rate: Decimal | None) -> str:
    if rate is None:
        return "–"
    return f"{number_text(rate)} %"


def adjustment_text(r: Receipt) -> str:
    """Why the amount charged differs from the items above it or from the operator's bill, in
    words and from the figures settlement went by (the lowest of the operator's bill, the price
    shown applied to what was metered, and the amount held); "" when all three agree."""
    item = next((i for i in r.costs if i.dimension == "adjustment"), None)
    paid = r.total_incl_vat
    listed = paid - item.incl_vat if item is not None and item.incl_vat is not None else paid

    def cents(amount: Decimal | None) -> Decimal | None:
        return None if amount is None else Money(amount, r.currency).rounded().amount

    bill, shown = cents(r.operator_bill), cents(r.priced_incl_vat)
    figures = {
        "bill": r.money(bill),
        "shown": r.money(shown),
        "held": r.money(r.held),
        "paid": r.money(paid),
        "kwh": number_text(r.energy_kwh),
    }
    if listed == paid and (bill is None or bill == paid):
        return ""  # the items add up to what the operator billed: nothing to explain
    above_hold = any(x is not None and x > r.held for x in (bill, shown))
    if r.held and paid == r.held and above_hold:
        text = _(
            "Capped at the amount held on your card (%(held)s): the operator's bill was "
            "%(bill)s, the price shown applied to %(kwh)s kWh is %(shown)s."
        )
    elif bill is not None and shown is not None and paid == shown < bill:
        text = _(
            "You pay the price you were shown: the operator's bill was %(bill)s, the price "
            "shown applied to %(kwh)s kWh is %(shown)s."
        )
    elif bill is not None and shown is not None and paid == bill < shown:
        text = _(
            "You pay the operator's bill, as it is lower than the price shown: the operator's "
            "bill was %(bill)s, the price shown applied to %(kwh)s kWh is %(shown)s."
        )
    elif shown is not None and paid == shown > listed:
        text = _("The tariff's minimum price per session applies: %(shown)s.")
    elif shown is not None and paid == shown < listed:
        text = _("The tariff's maximum price per session applies: %(shown)s.")
    elif abs(paid - listed) <= Decimal("0.02"):
        text = _("The items are rounded to the cent; the amount charged is %(paid)s.")
    else:
        text = _("The amount charged at settlement: %(paid)s.")
    return text % figures


def _party_lines(party: Party) -> list[str]:
    lines = [party.name, *party.address.splitlines()]
    lines.append(_("OCPI party %(party)s") % {"party": party.party})
    if party.vat_id:
        lines.append(_("VAT ID %(vat_id)s") % {"vat_id": party.vat_id})
    return [line for line in lines if line]


def recipient_lines(details: InvoiceDetails) -> list[str]:
    """The recipient as an address block: name, street, postal code and city, country, VAT id."""
    town = " ".join(x for x in (details.postal_code, details.city) if x)
    lines = [details.name, details.street, town, details.country]
    if details.vat_id:
        lines.append(_("VAT ID %(vat_id)s") % {"vat_id": details.vat_id})
    return [line for line in lines if line]


def _invoice_text(r: Receipt) -> dict[str, Any]:
    """What makes the receipt a full invoice above €250 (§ 14 UStG) or a small-amount one: its
    kind, the recipient, the date of supply, and what a full one still lacks: the recipient
    (the driver can enter it) or the seller's VAT id (the CPO terms or PLATFORM_VAT_ID lack it,
    which the admin flags)."""
    full = r.full_invoice
    limit = l10n.amount(FULL_INVOICE_ABOVE, "EUR")
    return {
        "full_invoice": full,
        "kind": (
            _("Invoice (§ 14 UStG)")
            if full
            else _("Small-amount invoice up to %(limit)s (§ 33 UStDV)") % {"limit": limit}
        ),
        "recipient": recipient_lines(r.recipient),
        "supply_date": (l10n.day(r.end.date()) if r.end is not None else "–") if full else "",
        "recipient_missing": (
            _(
                "An invoice over %(limit)s must name its recipient: enter your name or "
                "company and your address with the receipt to complete it."
            )
            % {"limit": limit}
            if full and not r.recipient.complete
            else ""
        ),
        "seller_vat_missing": (
            _("The seller's VAT ID is not on record; please contact us for it.")
            if full and not r.seller.vat_id
            else ""
        ),
    }


def present(receipt: Receipt) -> dict[str, Any]:
    """The receipt's figures as text in the active language, for the page, the e-mail and the
    PDF alike (so all three say the same)."""
    r = receipt
    platform_sells = r.merchant_of_record == CpoTerms.MerchantOfRecord.PLATFORM
    city = " ".join(x for x in (r.postal_code, r.city) if x)
    zone = ZoneInfo(r.time_zone)
    issued = r.issued_at.astimezone(zone)
    us = r.payment_service.name
    return {
        "number": r.number,
        "date": local_time(issued),
        **_invoice_text(r),
        "seller": _party_lines(r.seller),
        "seller_label": _("Seller") if platform_sells else _("Seller (charge point operator)"),
        "cpo_invoice_url": r.cpo_invoice_url,
        "cpo_invoice": (
            _("%(name)s, the operator, issues the invoice for this charge:")
            % {"name": r.operator.name}
            if r.cpo_invoice_url
            else ""
        ),
        "operator": (
            [r.operator.name, _("OCPI party %(party)s") % {"party": r.operator.party}]
            if platform_sells
            else []
        ),
        "payment_service": (
            ""
            if platform_sells
            else _("%(name)s collects the payment on behalf of the operator") % {"name": us}
        ),
        "place": ", ".join(x for x in (r.location_name, r.address, city, r.country) if x),
        "evse": _("%(evse_id)s, connector %(connector)s")
        % {"evse_id": r.evse_id, "connector": r.connector_id},
        "start": local_time(r.start),
        "end": local_time(r.end),
        "time_zone": r.time_zone,
        "energy": f"{number_text(r.energy_kwh)} kWh",
        "costs": [
            (
                cost_label(item),
                r.money(item.excl_vat) if item.dimension != "adjustment" else "",
                r.money(item.incl_vat),
            )
            for item in r.costs
        ],
        "total_excl_vat": r.money(r.total_excl_vat),
        "vat_label": _("VAT %(rate)s") % {"rate": rate_text(r.vat_rate)},
        "vat_amount": r.money(r.vat_amount),
        "total": r.money(r.total_incl_vat),
        "payment": [
            (_("Reserved on your card"), r.money(r.held)),
            (_("Taken"), r.money(r.captured)),
            (_("Released"), r.money(r.released)),
            (_("Payment method"), r.card),
            (_("Authorization reference"), r.authorization_reference or "–"),
            (_("CDR ID"), r.cdr_id or "–"),
        ],
        "calibration": r.calibration,
        "calibration_lines": (
            calibration_lines(r.calibration, ZoneInfo(r.time_zone)) if r.calibration else []
        ),
        "calibration_values": [
            (value.nature, value_status_text(value.status))
            for value in (r.calibration.values if r.calibration else ())
        ],
        "adjustment": adjustment_text(r),
        "credit_notes": [
            (
                _("Credit note no. %(number)s of %(date)s")
                % {"number": note.number, "date": local_time(note.issued_at.astimezone(zone))},
                r.money(-note.amount),
                credit_note_path(r.public_id, note.number),
            )
            for note in r.credit_notes
        ],
        "note": (
            _(
                "%(name)s sells the charging; the operator named above runs the charger. "
                "Amounts include VAT."
            )
            if platform_sells
            else _(
                "The operator named above sells the charging; %(name)s collects the payment as "
                "payment service. Amounts include VAT."
            )
        )
        % {"name": us},
    }


# --- credit notes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditNoteDoc:
    """A refund as a document: its number, the receipt it corrects, the date, the amount
    refunded with its VAT share (at the receipt's rate), the reason, and the parties as the
    receipt names them."""

    number: str
    receipt_number: str
    public_id: str
    issued_at: datetime
    currency: str
    amount: Decimal  # incl. VAT, refunded
    vat_rate: Decimal | None
    excl_vat: Decimal | None
    vat_amount: Decimal | None
    reason: str
    receipt: Receipt

    def money(self, amount: Decimal | None) -> str:
        return "–" if amount is None else l10n.amount(amount, self.currency)


def credit_note_for(checkout: Checkout, number: str) -> CreditNoteDoc:
    """One credit note of a settled checkout. Raises CreditNote.DoesNotExist when the checkout
    has none of that number, NoReceipt when it has no receipt."""
    note = checkout.credit_notes.get(number=number)
    return credit_note_doc(note, receipt_for(checkout))


def credit_note_doc(note: CreditNote, receipt: Receipt) -> CreditNoteDoc:
    amount = Money.from_minor(note.amount_minor, note.currency).amount
    net, vat = _split(amount, receipt.vat_rate, note.currency)
    return CreditNoteDoc(
        number=note.number,
        receipt_number=note.receipt_number,
        public_id=receipt.public_id,
        issued_at=note.issued_at,
        currency=note.currency,
        amount=amount,
        vat_rate=receipt.vat_rate,
        excl_vat=net,
        vat_amount=vat,
        reason=note.reason,
        receipt=receipt,
    )


def present_credit_note(doc: CreditNoteDoc) -> dict[str, Any]:
    """The credit note's text in the active language, for its page, PDF and e-mail alike."""
    receipt = present(doc.receipt)
    zone = ZoneInfo(doc.receipt.time_zone)
    return {
        "number": doc.number,
        "date": local_time(doc.issued_at.astimezone(zone)),
        "refers_to": _("Corrects receipt no. %(number)s of %(date)s")
        % {"number": doc.receipt_number, "date": receipt["date"]},
        "seller": receipt["seller"],
        "seller_label": receipt["seller_label"],
        "operator": receipt["operator"],
        "payment_service": receipt["payment_service"],
        "place": receipt["place"],
        "evse": receipt["evse"],
        "reason": doc.reason,
        "amount": doc.money(doc.amount),
        "excl_vat": doc.money(doc.excl_vat),
        "vat_label": _("VAT %(rate)s") % {"rate": rate_text(doc.vat_rate)},
        "vat_amount": doc.money(doc.vat_amount),
        "card": doc.receipt.card,
        "receipt_path": receipt_path(doc.public_id),
        "note": _("The amount is refunded to the card you paid with. Amounts include VAT."),
    }


def credit_note_path(public_id: str, number: str) -> str:
    return reverse("credit-note-page", args=[public_id, number])


def credit_note_url(public_id: str, number: str) -> str:
    return str(settings.PUBLIC_BASE_URL) + credit_note_path(public_id, number)


# --- the signed data to download ---------------------------------------------------------------

# The transparency software's `context` of a value, from its OCPI `nature`.
_CONTEXTS = {"start": "Transaction.Begin", "end": "Transaction.End"}


def ocmf_records(c: Calibration) -> list[tuple[str, bytes]]:
    """(nature, OCMF record) of each signed value that carries one, byte for byte as the CDR
    carried it (base64 undone where the CPO encoded it so); none for other encodings."""
    if c.encoding.strip().upper() != "OCMF":
        return []
    records = []
    for value in c.values:
        record = ocmf.ocmf_record(
            {"signed_data": value.signed_data, "plain_data": value.plain_data}
        )
        if record is not None:
            records.append((value.nature, record))
    return records


def signed_data_file(c: Calibration) -> tuple[bytes, str]:
    """The signed data as one text file, one record a line, and its extension: `.ocmf` for OCMF
    records (the text the transparency software reads), else `.txt` with each value's
    `signed_data` as the CDR carried it."""
    records = ocmf_records(c)
    if records:
        return b"\n".join(record for _, record in records) + b"\n", "ocmf"
    lines = [value.signed_data or value.plain_data for value in c.values]
    return ("\n".join(lines) + "\n").encode("utf-8"), "txt"


def transparency_xml(c: Calibration) -> bytes | None:
    """The S.A.F.E. transparency software's XML container of the OCMF records, each with the
    CDR's public key (`<values><value transactionId context><signedData format="OCMF"
    encoding="plain">…</signedData><publicKey encoding="hex">…</publicKey></value></values>`);
    None when there is no OCMF record to put in it."""
    records = ocmf_records(c)
    if not records:
        return None
    key = ocmf.public_key_bytes(c.public_key)
    root = ElementTree.Element("values")
    for number, (nature, record) in enumerate(records, start=1):
        context = _CONTEXTS.get(nature.lower(), f"Transaction.{nature}")
        value = ElementTree.SubElement(
            root, "value", {"transactionId": str(number), "context": context}
        )
        data = ElementTree.SubElement(value, "signedData", {"format": "OCMF", "encoding": "plain"})
        data.text = record.decode("utf-8")  # parse_ocmf read it, so it is UTF-8
        if key is not None:
            ElementTree.SubElement(value, "publicKey", {"encoding": "hex"}).text = key.hex().upper()
        elif c.public_key:
            ElementTree.SubElement(value, "publicKey", {"encoding": "plain"}).text = c.public_key
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def receipt_path(public_id: str) -> str:
    return reverse("receipt-page", args=[public_id])


def receipt_url(public_id: str) -> str:
    return str(settings.PUBLIC_BASE_URL) + receipt_path(public_id)
