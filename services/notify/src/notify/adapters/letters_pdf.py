"""Letters as PDF (fpdf2), set in Noto Sans CJK SC so that Chinese renders: the font ships in
the ``noto-cjk-sans-otc`` wheel, a dependency of notify, so nothing is fetched at run time.

Only the glyphs a letter uses are embedded (fpdf2 subsets the font), so a one-page letter is
a few kilobytes; the text stays extractable, as a court or an auditor may need it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib.resources import as_file

import noto_cjk_sans_otc
from fpdf import FPDF

#: Index of Noto Sans CJK SC in the collection (JP, KR, SC, TC, HK, then the Mono faces).
SIMPLIFIED_CHINESE = 2
FONT = "NotoSansCJKsc"


@dataclass(frozen=True, slots=True)
class Letter:
    """What goes on the page: the title (a template's subject), whom it is to, and the body."""

    title: str | None
    addressee: str
    body: str
    dated: date
    reference: str  # the message id, printed so a returned letter can be traced


def render_letter(letter: Letter) -> bytes:
    """One letter as PDF bytes. CPU-bound (the font is parsed each time): callers run it off
    the event loop."""
    pdf = FPDF(format="A4")
    pdf.set_margins(25, 25, 25)
    pdf.set_auto_page_break(auto=True, margin=25)
    with as_file(noto_cjk_sans_otc.FONT_PATH) as font_file:
        pdf.add_font(FONT, fname=font_file, collection_font_number=SIMPLIFIED_CHINESE)
    pdf.set_title(letter.title or "PostLoan")
    pdf.set_creator("PostLoan notify")
    pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 6, f"{letter.dated.isoformat()}    Ref. {letter.reference}", align="R")
    pdf.ln(12)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, letter.addressee)
    pdf.ln(6)
    if letter.title:
        pdf.set_font(FONT, size=16)
        pdf.multi_cell(0, 10, letter.title, align="C")
        pdf.ln(4)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 7, letter.body)
    return bytes(pdf.output())
