"""Who a receipt is made out to: the driver's invoice details (name or company, street and
number, postal code, city, country, VAT id), all optional, entered with the payment (driver API,
charger page) or afterwards under the receipt's secret link.

A German invoice over €250 gross (§ 14 UStG) must name its recipient with full name and
address; below that a small-amount invoice (§ 33 UStDV) needs no recipient, but shows one that
was entered. A VAT id is checked for the shape its country prefix gives it (`VAT_ID_SHAPES`),
not against VIES: a typo is caught, a made-up number of the right shape is not.

Details entered after the receipt was e-mailed change nothing that was sent: no new e-mail and
no new number; the receipt page and its PDF show them from then on (the receipt is the same
document, completed by its recipient's name).

They are personal data: `payments.receipt_mail.erase_old_emails` blanks them with the e-mail
address once EMAIL_RETENTION has passed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.models import Checkout

# The shape of each country's VAT id after its two-letter prefix (spaces, dots and hyphens
# removed): the EU member states (Greece as EL, Northern Ireland as XI), and the neighbours a
# driver at a German charger most often comes from.
VAT_ID_SHAPES: dict[str, str] = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "GB": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
    "CH": r"E\d{9}(?:MWST|TVA|IVA)?",
    "NO": r"\d{9}(?:MVA)?",
}

_SEPARATORS = re.compile(r"[\s.\-]")
_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,9}")

FIELDS = ("name", "street", "postal_code", "city", "country", "vat_id")
MAX_LENGTHS = {
    "name": 100,
    "street": 100,
    "postal_code": 10,
    "city": 60,
    "country": 60,
    "vat_id": 20,
}


def normalized_vat_id(value: str) -> str:
    """A VAT id as it is printed: upper case, without the spaces, dots and hyphens people
    write into it ("de 123.456.789" is DE123456789)."""
    return _SEPARATORS.sub("", value).upper()


def validate_vat_id(value: str) -> None:
    """Raises ValidationError (in the active language) unless `value` has the shape of a VAT id
    of the country its prefix names."""
    vat_id = normalized_vat_id(value)
    if not vat_id:
        return
    shape = VAT_ID_SHAPES.get(vat_id[:2])
    if shape is None:
        raise ValidationError(
            _("A VAT ID starts with its country's code, e.g. DE123456789."), code="vat_prefix"
        )
    if not re.fullmatch(shape, vat_id[2:]):
        raise ValidationError(
            _("This is not a valid VAT ID for %(country)s: please check it.")
            % {"country": vat_id[:2]},
            code="vat_shape",
        )


def validate_postal_code(value: str) -> None:
    if value and not _POSTAL_CODE.fullmatch(value.strip()):
        raise ValidationError(_("Please enter a valid postal code."), code="postal_code")


def validate_printable(value: str) -> None:
    if any(not c.isprintable() for c in value):
        raise ValidationError(_("Please use printable characters only."), code="printable")


@dataclass(frozen=True)
class InvoiceDetails:
    """The details as stored (each "" when not entered)."""

    name: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    vat_id: str = ""

    @property
    def entered(self) -> bool:
        return any(getattr(self, field) for field in FIELDS)

    @property
    def complete(self) -> bool:
        """Enough for a full invoice's recipient: a name and a postal address."""
        return bool(self.name and self.street and self.postal_code and self.city)

    @classmethod
    def of(cls, checkout: Checkout) -> InvoiceDetails:
        return cls(**{field: getattr(checkout, f"invoice_{field}") for field in FIELDS})


NO_DETAILS = InvoiceDetails()


def cleaned(values: dict[str, Any]) -> InvoiceDetails:
    """Validated values (`validate` first) as stored: trimmed, the VAT id normalized."""
    text = {field: str(values.get(field) or "").strip() for field in FIELDS}
    text["vat_id"] = normalized_vat_id(text["vat_id"])
    return InvoiceDetails(**text)


def cross_check(details: InvoiceDetails) -> dict[str, str]:
    """What is wrong across fields: an address or a VAT id without a name names nobody."""
    if details.entered and not details.name:
        return {"name": _("Please enter the name or company the invoice is made out to.")}
    return {}


def store(checkout: Checkout, details: InvoiceDetails) -> None:
    """Write the details on the checkout (replacing any entered before)."""
    values = {f"invoice_{field}": getattr(details, field) for field in FIELDS}
    Checkout.objects.filter(pk=checkout.pk).update(**values)
    for name, value in values.items():
        setattr(checkout, name, value)


class InvoiceDetailsForm(forms.Form):
    """The form under the receipt (and its checks, which the driver API shares)."""

    name = forms.CharField(
        label=gettext_lazy("Name or company"),
        max_length=MAX_LENGTHS["name"],
        required=False,
        validators=[validate_printable],
    )
    street = forms.CharField(
        label=gettext_lazy("Street and number"),
        max_length=MAX_LENGTHS["street"],
        required=False,
        validators=[validate_printable],
    )
    postal_code = forms.CharField(
        label=gettext_lazy("Postal code"),
        max_length=MAX_LENGTHS["postal_code"],
        required=False,
        validators=[validate_postal_code],
    )
    city = forms.CharField(
        label=gettext_lazy("City"),
        max_length=MAX_LENGTHS["city"],
        required=False,
        validators=[validate_printable],
    )
    country = forms.CharField(
        label=gettext_lazy("Country"),
        max_length=MAX_LENGTHS["country"],
        required=False,
        validators=[validate_printable],
    )
    vat_id = forms.CharField(
        label=gettext_lazy("VAT ID (optional)"),
        max_length=24,  # room for the separators people type; stored without them
        required=False,
        validators=[validate_vat_id],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            for field, message in cross_check(cleaned(data)).items():
                self.add_error(field, message)
        return data

    def details(self) -> InvoiceDetails:
        return cleaned(self.cleaned_data)

    @classmethod
    def for_checkout(cls, checkout: Checkout) -> InvoiceDetailsForm:
        details = InvoiceDetails.of(checkout)
        return cls(initial={field: getattr(details, field) for field in FIELDS})
