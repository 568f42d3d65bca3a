"""The receipt as a PDF (reportlab), in the active language: the same figures and words as the
page. The standard Helvetica font is used (every PDF reader has it); its encoding (WinAnsi)
holds €, German umlauts and ß; characters outside it are replaced, never dropped silently.
A normal session's receipt fits on one A4 page: compact headings, and the signed meter data
(long keys and signatures) in small type; a refund's credit note is a page of its own."""

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

from payments.legal import legal_links
from payments.receipts import CreditNoteDoc, Receipt, present, present_credit_note

_REPLACE = {"−": "-", "–": "-", "—": "-", "•": "*", "…": "...", "→": "->", "×": "x"}


def _safe(text: object) -> str:
    """Text for Helvetica/WinAnsi, escaped for reportlab's paragraph markup."""
    value = str(text)
    for old, new in _REPLACE.items():
        value = value.replace(old, new)
    value = value.encode("cp1252", errors="replace").decode("cp1252")
    return escape(value)


class _Styles:
    """The few paragraph styles of our documents, compact enough for one page."""

    def __init__(self) -> None:
        base = getSampleStyleSheet()
        self.body = ParagraphStyle(
            "body", parent=base["BodyText"], fontName="Helvetica", fontSize=9, leading=11,
            spaceBefore=0, spaceAfter=1,
        )  # fmt: skip
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9)
        self.mono = ParagraphStyle(
            "mono", parent=self.small, fontName="Courier", fontSize=6, leading=7
        )
        self.bold = ParagraphStyle("bold", parent=self.body, fontName="Helvetica-Bold")
        self.heading = ParagraphStyle(
            "h", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=11.5, leading=14,
            spaceBefore=6, spaceAfter=3,
        )  # fmt: skip
        self.title = ParagraphStyle(
            "t", parent=base["Title"], fontName="Helvetica-Bold", fontSize=16, leading=19,
            alignment=0, spaceAfter=4,
        )  # fmt: skip

    def p(self, text: object, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(_safe(text), style or self.body)

    def rows(self, pairs: list[tuple[str, str]]) -> Table:
        table = Table([[self.p(a), self.p(b)] for a, b in pairs], colWidths=[55 * mm, 115 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
        )
        return table


def _parties(text: dict[str, object]) -> list[tuple[str, str]]:
    """Seller, operator (when we sell) and payment service (when the CPO sells), as rows."""
    seller = text["seller"]
    operator = text["operator"]
    rows = [(str(text["seller_label"]), ", ".join(seller if isinstance(seller, list) else []))]
    if isinstance(operator, list) and operator:
        rows.append((_("Charge point operator"), ", ".join(operator)))
    if text["payment_service"]:
        rows.append((_("Payment service"), str(text["payment_service"])))
    return rows


def _recipient(text: dict[str, object]) -> list[tuple[str, str]]:
    """Who the receipt is made out to, when the driver entered it."""
    lines = text["recipient"]
    return [(_("Invoice to"), ", ".join(lines))] if isinstance(lines, list) and lines else []


def _build(story: list[Flowable], *, title: str, author: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author=author,
    )
    doc.build(story)
    return buffer.getvalue()


def credit_note_pdf(doc: CreditNoteDoc) -> bytes:
    """A refund's credit note: number, the receipt it corrects, date, amount with its VAT
    share, reason, and the parties as the receipt names them."""
    s = _Styles()
    text = present_credit_note(doc)
    story: list[Flowable] = [
        s.p(_("Credit note"), s.title),
        s.p(
            _("Credit note no. %(number)s, %(date)s")
            % {"number": text["number"], "date": text["date"]}
        ),
        s.p(text["refers_to"]),
        Spacer(1, 3 * mm),
        s.rows(
            [
                *_parties(text),
                (_("Location"), text["place"]),
                (_("Charger (EVSE ID)"), text["evse"]),
                (_("Reason"), text["reason"]),
                (_("Payment method"), text["card"]),
                (_("Total excl. VAT"), text["excl_vat"]),
                (text["vat_label"], text["vat_amount"]),
                (_("Refunded"), text["amount"]),
            ]
        ),
        Spacer(1, 3 * mm),
        s.p(text["note"], s.small),
    ]
    title = _("Credit note %(number)s") % {"number": doc.number}
    return _build(story, title=title, author=doc.receipt.payment_service.name)


def receipt_pdf(receipt: Receipt) -> bytes:
    s = _Styles()
    small, mono, bold, heading, title = s.small, s.mono, s.bold, s.heading, s.title
    p, rows = s.p, s.rows

    r = receipt
    text = present(r)
    story: list[Flowable] = [
        p(_("Receipt for charging"), title),
        p(_("Receipt no. %(number)s, %(date)s") % {"number": text["number"], "date": text["date"]}),
        p(text["kind"], small),
        *[p(text[key], bold) for key in ("recipient_missing", "seller_vat_missing") if text[key]],
        *(
            [p(f"{text['cpo_invoice']} {text['cpo_invoice_url']}")]
            if text["cpo_invoice_url"]
            else []
        ),
        Spacer(1, 3 * mm),
        rows(
            [
                *_recipient(text),
                *_parties(text),
                (_("Location"), text["place"]),
                (_("Charger (EVSE ID)"), text["evse"]),
                (_("Start"), text["start"]),
                (_("End"), text["end"]),
                (_("Time zone"), text["time_zone"]),
                *([(_("Date of supply"), text["supply_date"])] if text["supply_date"] else []),
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
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    story.append(costs)
    if text["adjustment"]:
        story.append(p(text["adjustment"], small))
    story += [p(_("Payment"), heading), rows(text["payment"])]
    if text["credit_notes"]:
        story.append(p(_("Credit notes"), heading))
        story += [p(f"{label}: {amount}") for label, amount, _path in text["credit_notes"]]
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
    story += [Spacer(1, 3 * mm), p(text["note"], small), _legal_line(s)]
    title_text = _("Receipt %(number)s") % {"number": r.number}
    return _build(story, title=title_text, author=r.payment_service.name)


def _legal_line(s: _Styles) -> Paragraph:
    """Where the terms of use, imprint, privacy policy and support are, as full URLs."""
    return s.p(" · ".join(f"{title}: {url}" for title, url in legal_links(absolute=True)), s.small)


def _wrap(text: str, width: int = 96) -> str:
    """Long keys and signatures broken into lines a page can hold (reportlab does not break
    words); the characters are unchanged."""
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))
