"""The training report: a JSON document and a self-contained HTML page with inline SVG charts.

The page has no script and no external asset (no CDN, font or image link), so it can be
archived with the models and opened anywhere. Charts: ROC curves, calibration by PD decile
(predicted against observed), bad rate by tier, and the score distribution of development
against validation loans. Validation figures are out-of-fold under cross-validation.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_curve  # type: ignore[import-untyped, unused-ignore]

from scoring.domain.json_object import JsonObject
from scoring.domain.metrics import ModelMetrics
from scoring.domain.model import FloatArray
from scoring.training.pipeline import ROLES, CrossValidation, TrainingResult

COLOURS = {"champion": "#1f5fa8", "challenger": "#d2691e"}
SECOND = "#7a9a01"
HEADLINE = ("auc", "ks", "gini")
ROC_POINTS = 200
HISTOGRAM_BINS = 30


def report_json(result: TrainingResult, *, dataset: str) -> JsonObject:
    """Everything measured in a training run, as JSON-ready values."""
    return {
        "version": result.version,
        "dataset": {
            "name": dataset,
            "rows": result.rows,
            "bad_rate": result.bad_rate,
            "fingerprint": result.fingerprint,
            "features": [f.name for f in result.features],
        },
        "seed": result.seed,
        "validation": _validation_json(result),
        "scale": result.champion.to_json()["scale"],
        "tiers": {"upper_pd": list(result.champion.tiers.upper_pd)},
        "models": {role: _model_json(result, role) for role in ROLES},
        "export_check": {
            "rows_compared": int(sum(f.validation.size for f in result.folds)),
            "mismatches": int(sum(f.export_mismatches for f in result.folds)),
        },
    }


def _validation_json(result: TrainingResult) -> JsonObject:
    if isinstance(result.validation, CrossValidation):
        return {"method": "stratified_cross_validation", "folds": result.validation.folds}
    fold = result.folds[0]
    return {
        "method": "out_of_time",
        "development_rows": int(fold.development.size),
        "validation_rows": int(fold.validation.size),
    }


def _model_json(result: TrainingResult, role: str) -> JsonObject:
    model = result.champion if role == "champion" else result.challenger
    psis = [f.psi[role].total for f in result.folds]
    return {
        "kind": model.kind,
        "version": model.version,
        "summary": {
            name: dict(zip(("mean", "sd"), result.summary(role, name), strict=True))
            for name in HEADLINE
        },
        "validation": result.pooled[role].to_json(),
        "psi": {"mean": float(np.mean(psis)), "max": float(np.max(psis))},
        "folds": [
            {
                "fold": f.index + 1,
                "development_rows": int(f.development.size),
                "validation_rows": int(f.validation.size),
                **f.metrics[role].to_json(),
                "psi": f.psi[role].to_json(),
            }
            for f in result.folds
        ],
    }


# --- SVG ----------------------------------------------------------------------------------


def _element(tag: str, text: str = "", **attributes: object) -> str:
    """An SVG element; ``font_size`` becomes ``font-size`` and so on."""
    attrs = " ".join(
        f'{k.replace("_", "-")}="{html.escape(str(v))}"'
        for k, v in attributes.items()
        if v is not None
    )
    return f"<{tag} {attrs}>{html.escape(text)}</{tag}>" if text else f"<{tag} {attrs}/>"


@dataclass
class Plot:
    """A chart area mapping data coordinates onto an SVG canvas."""

    title: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width: int = 440
    height: int = 320
    top: int = 34
    right: int = 16
    bottom: int = 48
    left: int = 58
    parts: list[str] = field(default_factory=list)

    @property
    def floor(self) -> float:
        """The canvas y of the x axis."""
        return float(self.height - self.bottom)

    def x(self, value: float) -> float:
        lo, hi = self.x_range
        return self.left + (value - lo) / ((hi - lo) or 1.0) * (self.width - self.right - self.left)

    def y(self, value: float) -> float:
        lo, hi = self.y_range
        return self.floor - (value - lo) / ((hi - lo) or 1.0) * (self.floor - self.top)

    def axes(
        self, x_label: str, y_label: str, x_format: str = "{:.2f}", y_format: str = "{:.2f}"
    ) -> None:
        if x_format:
            for value in np.linspace(*self.x_range, 6):
                self.text(self.x(value), self.floor + 16, x_format.format(value), anchor="middle")
        for value in np.linspace(*self.y_range, 6):
            self.text(self.left - 6, self.y(value) + 4, y_format.format(value), anchor="end")
            self.segment(
                self.left, self.y(value), self.width - self.right, self.y(value), "#e4e4e4"
            )
        self.parts.append(
            _element(
                "rect",
                x=self.left,
                y=self.top,
                width=self.width - self.left - self.right,
                height=self.floor - self.top,
                fill="none",
                stroke="#555",
            )
        )
        self.text(self.width / 2, self.height - 8, x_label, anchor="middle", size=12)
        middle = f"{self.height / 2:.1f}"
        self.parts.append(
            _element(
                "text",
                y_label,
                x=14,
                y=middle,
                transform=f"rotate(-90 14 {middle})",
                text_anchor="middle",
                font_size=12,
            )
        )

    def segment(self, x1: float, y1: float, x2: float, y2: float, colour: str) -> None:
        coords = {"x1": f"{x1:.1f}", "y1": f"{y1:.1f}", "x2": f"{x2:.1f}", "y2": f"{y2:.1f}"}
        self.parts.append(_element("line", stroke=colour, **coords))

    def text(
        self, x: float, y: float, label: str, *, anchor: str = "start", size: int = 11
    ) -> None:
        self.parts.append(
            _element("text", label, x=f"{x:.1f}", y=f"{y:.1f}", text_anchor=anchor, font_size=size)
        )

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float],
        colour: str,
        *,
        dash: str | None = None,
        marks: bool = False,
    ) -> None:
        points = " ".join(f"{self.x(a):.1f},{self.y(b):.1f}" for a, b in zip(xs, ys, strict=True))
        self.parts.append(
            _element(
                "polyline",
                points=points,
                fill="none",
                stroke=colour,
                stroke_width=2,
                stroke_dasharray=dash,
            )
        )
        if marks:
            for a, b in zip(xs, ys, strict=True):
                centre = {"cx": f"{self.x(a):.1f}", "cy": f"{self.y(b):.1f}"}
                self.parts.append(_element("circle", r=3, fill=colour, **centre))

    def bar(self, x0: float, x1: float, value: float, colour: str) -> None:
        top = self.y(value)
        self.parts.append(
            _element(
                "rect",
                x=f"{self.x(x0):.1f}",
                y=f"{top:.1f}",
                width=f"{self.x(x1) - self.x(x0):.1f}",
                height=f"{self.floor - top:.1f}",
                fill=colour,
                fill_opacity=0.8,
            )
        )

    def legend(self, entries: Sequence[tuple[str, str]]) -> None:
        for i, (label, colour) in enumerate(entries):
            y = self.top + 14 + 16 * i
            x = self.left + 10
            self.parts.append(_element("rect", x=x, y=y - 9, width=12, height=10, fill=colour))
            self.text(x + 18, y, label)

    def svg(self) -> str:
        head = (
            _element(
                "svg",
                xmlns="http://www.w3.org/2000/svg",
                viewBox=f"0 0 {self.width} {self.height}",
                role="img",
                aria_label=self.title,
                font_family="sans-serif",
                width=self.width,
                height=self.height,
            )[:-2]
            + ">"
        )
        title = _element(
            "text",
            self.title,
            x=self.width / 2,
            y=20,
            text_anchor="middle",
            font_size=14,
            font_weight="bold",
        )
        return "".join([head, title, *self.parts, "</svg>"])


def roc_chart(result: TrainingResult) -> str:
    plot = Plot("ROC curve (validation)", (0.0, 1.0), (0.0, 1.0))
    plot.axes("false positive rate (goods declined)", "true positive rate (bads caught)")
    plot.line([0.0, 1.0], [0.0, 1.0], "#999", dash="4 4")
    grid = np.linspace(0.0, 1.0, ROC_POINTS)
    for role in ROLES:
        fpr, tpr, _ = roc_curve(result.validation_target, result.validation_scores[role].pd)
        plot.line(grid.tolist(), np.interp(grid, fpr, tpr).tolist(), COLOURS[role])
    plot.legend([(f"{r} AUC {result.pooled[r].auc:.3f}", COLOURS[r]) for r in ROLES])
    return plot.svg()


def calibration_chart(result: TrainingResult) -> str:
    bins = [b for role in ROLES for b in result.pooled[role].calibration]
    top = _nice(max(max(b.mean_pd for b in bins), max(b.bad_rate for b in bins)))
    plot = Plot("Calibration by PD decile (validation)", (0.0, top), (0.0, top))
    plot.axes("mean predicted PD", "observed bad rate")
    plot.line([0.0, top], [0.0, top], "#999", dash="4 4")
    for role in ROLES:
        cal = result.pooled[role].calibration
        plot.line([b.mean_pd for b in cal], [b.bad_rate for b in cal], COLOURS[role], marks=True)
    plot.legend([(role, COLOURS[role]) for role in ROLES])
    return plot.svg()


def tier_chart(result: TrainingResult) -> str:
    tiers = {role: result.pooled[role].by_tier for role in ROLES}
    rates = [t.bad_rate or 0.0 for role in ROLES for t in tiers[role]]
    plot = Plot("Bad rate by tier (validation)", (0.0, 5.0), (0.0, _nice(max(rates) * 1.08)))
    plot.axes("tier", "observed bad rate", x_format="", y_format="{:.1%}")
    for i, name in enumerate("ABCDE"):
        plot.text(plot.x(i + 0.5), plot.floor + 16, name, anchor="middle")
        for j, role in enumerate(ROLES):
            tier = tiers[role][i]
            x0 = i + 0.1 + 0.4 * j
            plot.bar(x0, x0 + 0.4, tier.bad_rate or 0.0, COLOURS[role])
            label_y = plot.y(tier.bad_rate or 0.0) - 3
            plot.text(plot.x(x0 + 0.2), label_y, f"{tier.count:,}", anchor="middle", size=9)
    plot.legend([(f"{role} (loans above bars)", COLOURS[role]) for role in ROLES])
    return plot.svg()


def distribution_chart(result: TrainingResult, role: str) -> str:
    development = result.development_points[role]
    validation = result.validation_scores[role].points
    edges = np.linspace(*_range(development, validation), HISTOGRAM_BINS + 1)
    shares = [_shares(development, edges), _shares(validation, edges)]
    top = _nice(max(max(share) for share in shares) * 1.05)
    plot = Plot(f"Score distribution, {role}", (float(edges[0]), float(edges[-1])), (0.0, top))
    plot.axes("points", "share of loans", x_format="{:.0f}", y_format="{:.1%}")
    for values, colour in zip(shares, (COLOURS[role], SECOND), strict=True):
        xs = np.repeat(edges, 2)[1:-1].tolist()
        plot.line(xs, np.repeat(values, 2).tolist(), colour)
    psi = np.mean([f.psi[role].total for f in result.folds])
    plot.legend([("development", COLOURS[role]), (f"validation (PSI {psi:.3f})", SECOND)])
    return plot.svg()


def _nice(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above ``value``: the axis
    then has five round steps."""
    if value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= value))


def _range(*samples: FloatArray) -> tuple[float, float]:
    values = np.concatenate(samples)
    lo, hi = float(np.percentile(values, 0.5)), float(np.percentile(values, 99.5))
    return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)


def _shares(values: FloatArray, edges: FloatArray) -> list[float]:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return [float(c) / max(values.size, 1) for c in counts]


# --- HTML ---------------------------------------------------------------------------------

STYLE = """body{font-family:sans-serif;margin:2em;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}code{font-size:90%}"""


def report_html(result: TrainingResult, *, dataset: str) -> str:
    """The report as one HTML page with everything inline."""
    doc = report_json(result, dataset=dataset)
    charts = [roc_chart(result), calibration_chart(result), tier_chart(result)]
    charts += [distribution_chart(result, role) for role in ROLES]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Training report {html.escape(result.version)}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>Training report {html.escape(result.version)}</h1>",
            _overview(doc),
            "<h2>Headline figures</h2>",
            _headline_table(result),
            "<h2>Folds</h2>",
            _fold_table(result),
            "<h2>Charts</h2>",
            f'<div class="charts">{"".join(charts)}</div>',
            "</body></html>",
        ]
    )


def _overview(doc: JsonObject) -> str:
    data, check = doc["dataset"], doc["export_check"]
    method = ", ".join(f"{k}: {v}" for k, v in doc["validation"].items())
    return (
        f"<p>Data set <b>{html.escape(data['name'])}</b>: {data['rows']:,} loans, bad rate "
        f"{data['bad_rate']:.2%}, {len(data['features'])} features; fingerprint "
        f"<code>{data['fingerprint']}</code>.</p>"
        f"<p>Validation {html.escape(method)}; seed {doc['seed']}. Served champion points "
        f"equal optbinning's on {check['rows_compared'] - check['mismatches']:,} of "
        f"{check['rows_compared']:,} validation rows.</p>"
    )


def _headline_table(result: TrainingResult) -> str:
    head = "<tr><th>model</th>" + "".join(f"<th>{m.upper()} mean ± sd</th>" for m in HEADLINE)
    head += "<th>pooled AUC</th><th>mean PSI</th></tr>"
    rows = []
    for role in ROLES:
        cells = "".join(
            "<td>{:.4f} ± {:.4f}</td>".format(*result.summary(role, m)) for m in HEADLINE
        )
        psi = np.mean([f.psi[role].total for f in result.folds])
        rows.append(
            f"<tr><td>{role}</td>{cells}<td>{result.pooled[role].auc:.4f}</td>"
            f"<td>{psi:.4f}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _fold_table(result: TrainingResult) -> str:
    head = "<tr><th>fold</th><th>rows (dev / val)</th>"
    head += "".join(f"<th>{r} AUC</th><th>{r} KS</th><th>{r} PSI</th>" for r in ROLES) + "</tr>"
    rows = []
    for fold in result.folds:
        cells = "".join(_metric_cells(fold.metrics[r], fold.psi[r].total) for r in ROLES)
        rows.append(
            f"<tr><td>{fold.index + 1}</td><td>{fold.development.size:,} / "
            f"{fold.validation.size:,}</td>{cells}</tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _metric_cells(metrics: ModelMetrics, psi: float) -> str:
    return f"<td>{metrics.auc:.4f}</td><td>{metrics.ks:.4f}</td><td>{psi:.4f}</td>"
