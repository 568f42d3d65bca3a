"""QR stickers for chargers: a printable A4 sheet (PDF, reportlab as the receipts use) with one
sticker per EVSE: the QR code of the page a driver pays on, the EVSE ID in text, the operator's
name and a short fallback address where the ID can be typed in.

The QR code holds `<PUBLIC_BASE_URL>/charge/<EVSE ID>/`: the EVSE ID is what the charger's
operator prints on it (eMI3), so a sticker stays right when the CPO's connection is registered
anew, moves to a hub, or its locations are re-published under new ids; no id of ours is in it.
An EVSE without an EVSE ID (or REMOVED) gets no sticker: nothing could find it from one.

Who the operator is, as drivers are told (CPO terms, registered business name), is known above
this package: `payments` registers it with `name_operators_with` in its `ready()`; without it,
the connection's name stands."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import segno
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from stations.models import Evse

OperatorName = Callable[[Evse], str]
_operator_name: list[OperatorName] = [lambda evse: evse.location.partner.name]


def name_operators_with(namer: OperatorName) -> None:
    """Who a sticker names as the charger's operator (registered by `payments` in `ready()`)."""
    _operator_name[0] = namer


def charge_url(evse_id: str) -> str:
    """What a charger's QR code opens: its EVSE ID as printed, under PUBLIC_BASE_URL."""
    return f"{settings.PUBLIC_BASE_URL}/charge/{quote(evse_id, safe='*')}/"


def fallback_url() -> str:
    """Short enough to type from a sticker: the host and `/charge`, where the ID is entered."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{parts.netloc}{parts.path.rstrip('/')}/charge"


@dataclass(frozen=True)
class Sticker:
    evse_id: str
    operator: str
    url: str


def stickers_for(evses: Iterable[Evse]) -> list[Sticker]:
    """One sticker per EVSE that has an EVSE ID and is not REMOVED, in EVSE ID order."""
    chosen = sorted(
        (e for e in evses if e.evse_id and e.status != Evse.Status.REMOVED),
        key=lambda e: e.evse_id,
    )
    return [Sticker(e.evse_id, _operator_name[0](e), charge_url(e.evse_id)) for e in chosen]


# A4 in 2 columns and 4 rows of 95 × 68 mm stickers, cut along light lines.
_COLUMNS, _ROWS = 2, 4
_WIDTH, _HEIGHT = 95 * mm, 68 * mm
_QR_SIZE = 44 * mm


def _qr_png(url: str) -> ImageReader:
    """The QR code as a PNG (medium error correction: a sticker gets scratched)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, kind="png", scale=10, border=4)
    out.seek(0)
    return ImageReader(out)


def _words(language: str) -> tuple[str, str]:
    with translation.override(language):
        return (
            gettext("Scan to pay by card"),
            gettext("No camera? Open %(address)s and enter the ID.") % {"address": fallback_url()},
        )


def sticker_sheet(stickers: list[Sticker]) -> bytes:
    """The stickers as a PDF of A4 pages; a sheet with none says so on its one page. The words
    are German and English, the languages the driver's pages speak."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle("QR stickers")
    page_width, page_height = A4
    left = (page_width - _COLUMNS * _WIDTH) / 2
    top = page_height - (page_height - _ROWS * _HEIGHT) / 2
    words = [_words("de"), _words("en")]
    if not stickers:
        canvas.setFont("Helvetica", 12)
        canvas.drawString(left, top - 12, "No charger with an EVSE ID was chosen.")
    for n, sticker in enumerate(stickers):
        if n and n % (_COLUMNS * _ROWS) == 0:
            canvas.showPage()
        place = n % (_COLUMNS * _ROWS)
        x = left + (place % _COLUMNS) * _WIDTH
        y = top - (place // _COLUMNS + 1) * _HEIGHT
        _draw(canvas, sticker, x, y, words)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw(
    canvas: Canvas, sticker: Sticker, x: float, y: float, words: list[tuple[str, str]]
) -> None:
    canvas.setStrokeGray(0.8)
    canvas.rect(x, y, _WIDTH, _HEIGHT)  # the cutting line
    canvas.drawImage(
        _qr_png(sticker.url), x + 3 * mm, y + (_HEIGHT - _QR_SIZE) / 2, _QR_SIZE, _QR_SIZE
    )
    text_x, width = x + _QR_SIZE + 6 * mm, _WIDTH - _QR_SIZE - 9 * mm
    line_y = y + _HEIGHT - 12 * mm
    canvas.setFont("Helvetica-Bold", 11)
    for line in _fit(canvas, sticker.evse_id, "Helvetica-Bold", 11, width):
        canvas.drawString(text_x, line_y, line)
        line_y -= 5 * mm
    canvas.setFont("Helvetica", 8)
    for line in _fit(canvas, sticker.operator, "Helvetica", 8, width):
        canvas.drawString(text_x, line_y, line)
        line_y -= 4 * mm
    line_y -= 2 * mm
    for scan, fallback in words:
        canvas.setFont("Helvetica-Bold", 8)
        canvas.drawString(text_x, line_y, scan)
        line_y -= 4 * mm
        canvas.setFont("Helvetica", 6.5)
        for line in _fit(canvas, fallback, "Helvetica", 6.5, width):
            canvas.drawString(text_x, line_y, line)
            line_y -= 3 * mm
        line_y -= 1.5 * mm


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    """`text` in lines no wider than `width`, broken at spaces (a long word on a line alone)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and canvas.stringWidth(candidate, font, size) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]
