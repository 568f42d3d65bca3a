"""The receipt as a PDF (reportlab), in the active language: the same figures and words as the
page. The standard Helvetica font is used (every PDF reader has it); its encoding (WinAnsi)
holds €, German umlauts and ß; characters outside it are replaced, never dropped silently."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from payments.receipts import Receipt, present

_REPLACE = {"−": "-", "–": "-", "—": "-", "•": "*", "…": "...", "→": "->", "×": "x"}


def _safe(text: object) -> str:
    """Text for Helvetica/WinAnsi, escaped for reportlab's paragraph markup."""
    value = str(text)
    for old, new in _REPLACE.items():
        value = value.replace(old, new)
    value = value.encode("cp1252", errors="replace").decode("cp1252")
    return escape(value)


def receipt_pdf(receipt: Receipt) -> bytes:
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Helvetica", fontSize=9.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9)
    mono = ParagraphStyle("mono", parent=small, fontName="Courier", fontSize=6.5, leading=8)
    bold = ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold")
    heading = ParagraphStyle("h", parent=styles["Heading2"], fontName="Helvetica-Bold")
    title = ParagraphStyle("t", parent=styles["Title"], fontName="Helvetica-Bold", alignment=0)

    def p(text: object, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(_safe(text), style)

    def rows(pairs: list[tuple[str, str]]) -> Table:
        table = Table([[p(a), p(b)] for a, b in pairs], colWidths=[60 * mm, 110 * mm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table

    r = receipt
    text = present(r)
    story: list[Flowable] = [
        p(_("Receipt for charging"), title),
        p(_("Receipt no. %(number)s, %(date)s") % {"number": text["number"], "date": text["date"]}),
        Spacer(1, 4 * mm),
        rows(
            [
                (_("Seller (charge point operator)"), ", ".join(text["seller"])),
                (_("Payment service"), text["payment_service"]),
                (_("Location"), text["place"]),
                (_("Charger (EVSE ID)"), text["evse"]),
                (_("Start"), text["start"]),
                (_("End"), text["end"]),
                (_("Time zone"), text["time_zone"]),
                (_("Energy delivered"), text["energy"]),
            ]
        ),
        p(_("Price"), heading),
    ]
    cost_rows = [[p(_("Item")), p(_("excl. VAT")), p(_("incl. VAT"))]]
    cost_rows += [[p(label), p(excl), p(incl)] for label, excl, incl in text["costs"]]
    cost_rows += [
        [p(_("Total excl. VAT")), p(text["total_excl_vat"]), p("")],
        [p(text["vat_label"]), p(text["vat_amount"]), p("")],
        [p(_("Total paid"), bold), p(""), p(text["total"], bold)],
    ]
    costs = Table(cost_rows, colWidths=[90 * mm, 40 * mm, 40 * mm])
    costs.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                ("LINEABOVE", (0, -3), (-1, -3), 0.5, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [costs, p(_("Payment"), heading), rows(text["payment"])]
    c = r.calibration
    if c is not None:
        story += [
            p(_("Calibration law (Eichrecht): signed meter values"), heading),
            p(c.verdict_text, bold),
            rows(
                [
                    *text["calibration_lines"],
                    (_("Encoding"), f"{c.encoding} {c.encoding_version}".strip() or "–"),
                    (_("Meter"), c.meter or "–"),
                ]
            ),
            p(_("Public key"), small),
            p(_wrap(c.public_key), mono),
        ]
        for nature, status in text["calibration_values"]:
            story.append(p(f"{nature}: {status}", small))
        for value in c.values:
            story.append(p(_wrap(value.plain_data or value.signed_data), mono))
    story += [Spacer(1, 4 * mm), p(text["note"], small)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=_("Receipt %(number)s") % {"number": r.number},
        author=r.payment_service.name,
    )
    doc.build(story)
    return buffer.getvalue()


def _wrap(text: str, width: int = 96) -> str:
    """Long keys and signatures broken into lines a page can hold (reportlab does not break
    words); the characters are unchanged."""
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))
