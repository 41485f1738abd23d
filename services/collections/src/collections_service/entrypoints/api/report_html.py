"""The strategy results as one self-contained HTML page: tables and inline SVG charts (a bar
per variant at its estimate, a whisker over its 95% interval); nothing is fetched from
anywhere, so the page works offline and can be mailed as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, LABEL, ROW, PAD = 640, 170, 30, 12


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None
    low: float | None
    high: float | None
    text: str  # the estimate and interval as printed


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    bars: Sequence[Bar]
    top: float | None = None  # the scale's end (1 for rates); else the largest bound


def svg(chart: Chart) -> str:
    """One horizontal bar chart with interval whiskers."""
    ends = [b.high or b.value or 0.0 for b in chart.bars]
    top = chart.top or max([*ends, 0.0]) or 1.0
    plot = WIDTH - LABEL - 2 * PAD - 150
    height = PAD * 2 + ROW * max(len(chart.bars), 1)

    def x(v: float) -> float:
        return LABEL + PAD + plot * max(0.0, min(v, top)) / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'role="img" aria-label="{escape(chart.title)}">']  # fmt: skip
    for i, bar in enumerate(chart.bars):
        y = PAD + i * ROW
        parts.append(f'<text x="{LABEL}" y="{y + 19}" text-anchor="end">{escape(bar.label)}</text>')
        if bar.value is not None:
            parts.append(f'<rect x="{x(0):.1f}" y="{y + 6}" width="{x(bar.value) - x(0):.1f}" '
                         f'height="18" fill="#4c78a8"/>')  # fmt: skip
        if bar.low is not None and bar.high is not None:
            a, b, m = x(bar.low), x(bar.high), y + 15
            whisker = f"M{a:.1f} {m}H{b:.1f}M{a:.1f} {m - 6}V{m + 6}M{b:.1f} {m - 6}V{m + 6}"
            parts.append(f'<path d="{whisker}" stroke="#e45756" stroke-width="2"/>')
        parts.append(f'<text x="{LABEL + PAD + plot + 8}" y="{y + 19}">{escape(bar.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def page(title: str, charts: Sequence[Chart], table: Sequence[Sequence[str]],
         warnings: Sequence[str]) -> str:  # fmt: skip
    head, *rows = table
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    notes = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    figures = "".join(f"<h2>{escape(c.title)}</h2>{svg(c)}" for c in charts)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        "</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}th{background:#f3f3f3}svg text{font:12px system-ui,sans-serif}"
        ".warn{color:#a33}</style></head><body>"
        f"<h1>{escape(title)}</h1><table><tr>{cells}</tr>{body}</table>"
        + (f'<h2>Warnings</h2><ul class="warn">{notes}</ul>' if notes else "")
        + figures
        + "<p>Rates: Wilson 95% intervals. Amounts per case: seeded percentile bootstrap 95% "
        "intervals (normal above 5,000 cases). Bars: estimate; red whiskers: interval.</p>"
        "</body></html>"
    )
