"""What the ledger adds up to, for operators and accountants: sums per checkout, and the
settlement export per partner over a run of days (what drivers paid, the VAT in it, what we owe
the CPO, what we keep, and who sold the charge: the CPO party's merchant of record, "platform"
when we sell it and the CPO bills us by CDR, "cpo" when we collect for the CPO).

An export holds the ledger movements booked from the first day's midnight to the midnight after
the last day in the platform's TIME_ZONE, one row per checkout: a checkout held before midnight
and captured after it shows in both days' exports, and a refund made a week later shows when it
was made. So exports add up: the sum of runs of days is what moved in them, and every amount
column is a sum of ledger rows (the VAT column aside, which is the paid amount's VAT share at
the receipt's rate). A refund an operator had the CPO bear is a negative PAYABLE row naming the
refund: it lowers what we owe the CPO and shows in `refunds_borne_by_cpo`. Amounts stay integers
in minor units until they are written, then become exact Decimals in major units (never float)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from payments.models import Checkout, CpoTerms, LedgerEntry, receipt_number
from stations.money import Money

Kind = LedgerEntry.Kind


@dataclass(frozen=True)
class Sums:
    """One checkout's (or a total's) ledger movements by kind, in minor units."""

    held: int = 0
    captured: int = 0
    released: int = 0
    refunded: int = 0
    disputed: int = 0  # net: taken by chargebacks less what won disputes gave back
    payable: int = 0
    cpo_bears: int = 0  # refunds deducted from what we owe the CPO (within `payable`)

    @property
    def paid(self) -> int:
        """What the driver paid, in the end: captured less refunded less lost to disputes."""
        return self.captured - self.refunded - self.disputed

    @property
    def difference(self) -> int:
        """What the driver paid less what we owe the CPO (positive: we keep it)."""
        return self.paid - self.payable

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


_FIELD_OF_KIND = {
    Kind.HOLD: "held",
    Kind.CAPTURE: "captured",
    Kind.RELEASE: "released",
    Kind.REFUND: "refunded",
    Kind.DISPUTE: "disputed",
    Kind.PAYABLE: "payable",
}


def _sums(entries: Iterable[Mapping[str, Any]]) -> dict[int, Sums]:
    """`entries`: rows of checkout_id, kind, total and (PAYABLE) what refunds deducted."""
    by_checkout: dict[int, dict[str, int]] = defaultdict(dict)
    for entry in entries:
        field = _FIELD_OF_KIND.get(entry["kind"])
        if field is not None:
            by_checkout[entry["checkout_id"]][field] = entry["total"]
        if entry["kind"] == Kind.PAYABLE and entry["deducted"]:
            by_checkout[entry["checkout_id"]]["cpo_bears"] = -entry["deducted"]
    return {pk: Sums(**values) for pk, values in by_checkout.items()}


def _grouped(entries: QuerySet[LedgerEntry]) -> dict[int, Sums]:
    return _sums(
        entries.values("checkout_id", "kind")
        .annotate(
            total=Sum("amount_minor"),
            deducted=Sum("amount_minor", filter=Q(refund__isnull=False), default=0),
        )
        .order_by()
    )


def ledger_sums(checkout_ids: Iterable[int]) -> dict[int, Sums]:
    """The whole ledger of each checkout, summed by kind (one query)."""
    ids = list(checkout_ids)
    found = _grouped(LedgerEntry.objects.filter(checkout_id__in=ids))
    return {pk: found.get(pk, Sums()) for pk in ids}


def major(minor: int, currency: str) -> str:
    """Minor units as a major-unit amount with the currency's decimals: 1230 EUR -> "12.30"."""
    return format(Money.from_minor(minor, currency).amount, "f")


@dataclass(frozen=True)
class SettlementRow:
    first: date
    last: date
    partner: str
    cpo_party: str
    checkout_id: int | None  # None on a totals row
    authorization_reference: str
    receipt_number: str
    cdr_ids: str
    currency: str
    sums: Sums
    vat: int | None = None  # VAT in what the driver paid, minor units; None: no rate known
    merchant_of_record: str = ""  # "platform" (we sold the charge) or "cpo"; "" on totals

    @property
    def is_total(self) -> bool:
        return self.checkout_id is None


def day_bounds(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """From local midnight of `first` to the local midnight after `last` (default: `first`)
    in the platform's TIME_ZONE (a DST day has 23 or 25 hours)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine((last or first) + timedelta(days=1), time.min, tzinfo=zone),
    )


def settlement_rows(
    first: date, partner_id: int | None, last: date | None = None
) -> list[SettlementRow]:
    """One row per checkout with ledger movements booked from `first` to `last` (default:
    `first`) inclusive (of one partner, or of all when `partner_id` is None), ordered by
    checkout id, then a totals row per currency."""
    from payments.receipts import vat_share  # receipts builds on the sums of this module

    last = last or first
    start, end = day_bounds(first, last)
    entries = LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    if partner_id is not None:
        entries = entries.filter(checkout__partner_id=partner_id)
    sums = _grouped(entries)
    checkouts = (
        Checkout.objects.filter(pk__in=sums)
        .select_related("partner", "evse__location")
        .prefetch_related("cdrs")
        .order_by("pk")
    )
    rows: list[SettlementRow] = []
    totals: dict[str, SettlementRow] = {}
    sellers = {
        (t.country_code.upper(), t.party_id.upper()): t.merchant_of_record
        for t in CpoTerms.objects.all()
    }
    for checkout in checkouts:
        location = checkout.evse.location
        party = (location.country_code.upper(), location.party_id.upper())
        cdrs = list(checkout.cdrs.all())
        paid = sums[checkout.pk].paid
        row = SettlementRow(
            first=first,
            last=last,
            partner=checkout.partner.name,
            cpo_party=f"{location.country_code}*{location.party_id}",
            checkout_id=checkout.pk,
            authorization_reference=checkout.authorization_reference or "",
            receipt_number=(
                receipt_number(checkout) if checkout.status == Checkout.Status.SETTLED else ""
            ),
            cdr_ids=" ".join(sorted(cdr.cdr_id for cdr in cdrs)),
            currency=checkout.currency,
            sums=sums[checkout.pk],
            vat=vat_share(checkout, cdrs, paid) if paid else 0,
            merchant_of_record=sellers.get(party, CpoTerms.MerchantOfRecord.PLATFORM),
        )
        rows.append(row)
        total = totals.get(row.currency)
        if total is None:
            totals[row.currency] = replace(
                row,
                partner=row.partner if partner_id is not None else "",
                cpo_party="",
                checkout_id=None,
                authorization_reference="",
                receipt_number="",
                cdr_ids="",
                merchant_of_record="",
            )
        else:
            vat = None if total.vat is None or row.vat is None else total.vat + row.vat
            totals[row.currency] = replace(total, sums=total.sums + row.sums, vat=vat)
    return rows + [totals[currency] for currency in sorted(totals)]


HEADER = [
    "from",
    "to",
    "partner",
    "cpo_party",
    "checkout_id",
    "authorization_reference",
    "receipt_number",
    "cdr_ids",
    "currency",
    "held",
    "captured",
    "released",
    "refunded",
    "disputed",
    "paid_by_driver",
    "vat_in_paid",
    "owed_to_cpo",
    "refunds_borne_by_cpo",
    "platform_fee",  # what we keep: paid by the driver less owed to the CPO
    "merchant_of_record",
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A text cell a spreadsheet will not run: one starting like a formula (`=`, `+`, `-`, `@`,
    tab, carriage return) gets a leading `'`. Partners choose their business names, party ids
    and CDR ids; `=HYPERLINK(...)` in one must reach the accountant as text. Amount columns are
    not passed through here, so a negative amount stays a number."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_settlement_csv(rows: Iterable[SettlementRow], out: IO[str]) -> None:
    """The rows as CSV: a header, one line per checkout, "total" in the checkout_id column of
    the totals lines; amounts in major units with the currency's decimals (the VAT cell empty
    where no rate is known), every text cell made inert (`inert`)."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows:
        s, currency = row.sums, row.currency
        writer.writerow(
            [
                row.first.isoformat(),
                row.last.isoformat(),
                inert(row.partner),
                inert(row.cpo_party),
                "total" if row.is_total else row.checkout_id,
                inert(row.authorization_reference),
                inert(row.receipt_number),
                inert(row.cdr_ids),
                inert(currency),
                *(
                    major(minor, currency)
                    for minor in (s.held, s.captured, s.released, s.refunded, s.disputed, s.paid)
                ),
                "" if row.vat is None else major(row.vat, currency),
                major(s.payable, currency),
                major(s.cpo_bears, currency),
                major(s.difference, currency),
                row.merchant_of_record,
            ]
        )
