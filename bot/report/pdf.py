"""The report as PDF, drawn with fpdf2 (pure Python, installs from PyPI alone).

The charts are the same SVG as on the page: fpdf2 turns them into PDF vector paths and
text. PDF core fonts cover Windows-1252, which holds Danish and the punctuation the
catalog uses; anything else is replaced rather than failing the report.
"""

from __future__ import annotations

import io
import re

from fpdf import FPDF, FontFace

import locales
from bot.report import charts
from bot.report.document import Report
from bot.report.sections import Section, period_text
from locales import _

ENCODING = "windows-1252"
_UNDRAWN = re.compile(r"<(title|desc)\b[^>]*>.*?</\1>", re.S)  # fpdf2 draws neither
INK = (22, 27, 38)
MUTED = (79, 88, 105)


_PLAIN = str.maketrans({"–": "-", "—": "-", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"'})


def _svg(markup: str) -> bytes:
    """The chart for fpdf2, whose SVG text is measured with Latin-1 metrics only."""
    plain = _UNDRAWN.sub("", markup).translate(_PLAIN)
    return plain.encode("latin-1", errors="replace").decode("latin-1").encode()


def _text(value: object) -> str:
    """`value` as text the core fonts can draw."""
    return str(value).encode(ENCODING, errors="replace").decode(ENCODING)


class _Document(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, _text(f"{self.page_no()}"), align="R")


def _section(pdf: _Document, section: Section) -> None:
    pdf.set_font("Helvetica", "B", 13)
    pdf.set_text_color(*INK)
    pdf.ln(4)
    pdf.multi_cell(0, 7, _text(section.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, _text(section.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    if section.chart is not None:
        pdf.image(io.BytesIO(_svg(charts.svg(section.chart))), w=pdf.epw)
    pdf.set_text_color(*INK)
    if not section.table.rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 5, _text(_("Nothing in this period.")), new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font("Helvetica", size=8)
    heading = FontFace(emphasis="BOLD", fill_color=(232, 239, 255))
    with pdf.table(headings_style=heading, line_height=4.5, padding=1) as table:
        table.row([_text(c) for c in section.table.columns])
        for row in section.table.rows:
            table.row([_text(c) for c in row])


def pdf(report: Report) -> bytes:
    """The report as PDF bytes, in the report's language."""
    with locales.use(report.language):
        document = _Document(format="A4")
        document.core_fonts_encoding = ENCODING
        document.set_title(_text(report.title))
        document.set_creation_date(report.generated)
        document.set_margins(15, 15, 15)
        document.set_auto_page_break(True, margin=16)
        document.add_page()
        document.set_font("Helvetica", "B", 18)
        document.multi_cell(0, 9, _text(report.title), new_x="LMARGIN", new_y="NEXT")
        document.set_font("Helvetica", size=10)
        document.set_text_color(*MUTED)
        document.multi_cell(
            0, 6, _text(period_text(report.figures.period)), new_x="LMARGIN", new_y="NEXT"
        )
        document.set_text_color(*INK)
        document.ln(2)
        document.set_font("Helvetica", size=10)
        with document.table(
            col_widths=(3, 1), line_height=6, padding=1, first_row_as_headings=False
        ) as table:
            for headline in report.headlines:
                table.row([_text(headline.label), _text(headline.value)])
        for section in report.sections:
            _section(document, section)
        return bytes(document.output())
