"""The legal pages every driver page links to (terms of use, imprint, privacy policy, support):
their text is the operator's (`LegalPage`, edited in the admin), in the reader's language
where the operator wrote it, else in the one they did. The imprint also names us as
PLATFORM_LEGAL_NAME, PLATFORM_LEGAL_ADDRESS and PLATFORM_VAT_ID say, whatever its text."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from payments.models import LegalPage

KINDS = tuple(LegalPage.Kind)
TITLES: dict[str, Promise] = {
    LegalPage.Kind.TERMS: gettext_lazy("Terms of use"),
    LegalPage.Kind.IMPRINT: gettext_lazy("Imprint"),
    LegalPage.Kind.PRIVACY: gettext_lazy("Privacy policy"),
    LegalPage.Kind.SUPPORT: gettext_lazy("Support"),
}


@dataclass(frozen=True)
class LegalText:
    kind: LegalPage.Kind
    text: str  # plain text; empty when the operator has written none yet
    language: str  # the language `text` is in


def legal_text(kind: LegalPage.Kind, language: str) -> LegalText:
    page = LegalPage.objects.filter(kind=kind).first()
    texts = {"en": page.text_en.strip(), "de": page.text_de.strip()} if page else {}
    for candidate in (language, "en", "de"):
        if texts.get(candidate):
            return LegalText(kind, texts[candidate], candidate)
    return LegalText(kind, "", language)


def platform_identity() -> list[str]:
    """Who we are, as the imprint must say it: name, address lines, VAT id."""
    lines = [settings.PLATFORM_LEGAL_NAME, *settings.PLATFORM_LEGAL_ADDRESS.splitlines()]
    if settings.PLATFORM_VAT_ID:
        lines.append(f"VAT ID / USt-IdNr.: {settings.PLATFORM_VAT_ID}")
    return [line for line in lines if line.strip()]


def legal_links(*, absolute: bool = False) -> list[tuple[str, str]]:
    """Each legal page's title (in the active language) and its path, or its full URL for
    e-mails and PDFs."""
    base = settings.PUBLIC_BASE_URL if absolute else ""
    return [(str(TITLES[kind]), base + reverse("legal-page", args=[kind.value])) for kind in KINDS]
