"""Charts as inline SVG, drawn on the server: no script, no style attribute, so they show under a strict Content
Security Policy and in a saved copy of the page. Each is an image with a title and a description (``role="img"``,
``aria-labelledby``); the page puts the same numbers in a table beside it, for screen readers and for copying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 720
TEXT = "#1a1a1a"  # the page's text colour: well over 4.5:1 on white
GRID = "#d0d0d0"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str  # Okabe and Ito's palette, told apart by people with any common colour vision deficiency


OUTCOME_SERIES = (
    Series("accept_all", "Accept all", "#0072B2"),
    Series("reject_all", "Reject all", "#D55E00"),
    Series("custom", "Custom choice", "#009E73"),
    Series("signals", "GPC, DNT, withdrawal and other decisions", "#CC79A7"),
    Series("no_action", "No action (estimated)", "#6B6B6B"),
)
OTHER_METHODS = ("withdrawal", "gpc", "dnt", "implied", "renewal")


def outcome_values(row: dict) -> dict[str, int]:
    """A report row's counts as the outcome series draw them."""
    return {
        "accept_all": row["accept_all"],
        "reject_all": row["reject_all"],
        "custom": row["custom"],
        "signals": sum(row[method] for method in OTHER_METHODS),
        "no_action": row["no_action"],
    }


def legend(series: tuple[Series, ...] = OUTCOME_SERIES) -> Markup:
    items = "".join(
        f'<li><svg width="12" height="12" aria-hidden="true" focusable="false"><rect width="12" height="12" '
        f'fill="{s.color}"/></svg> {escape(s.label)}</li>'
        for s in series
    )
    return Markup(f'<ul class="legend">{items}</ul>')


def _open(ident: str, title: str, description: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="chart">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
    )


def _nice_ceiling(value: float) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return max(1, math.ceil(step * power))
    return math.ceil(value)


def stacked_columns(
    ident: str, title: str, description: str, labels: list[str], values: list[dict[str, int]], series=OUTCOME_SERIES
) -> Markup:
    """One column per label (a day), its segments stacked bottom up in the order of ``series``."""
    height, left, bottom, top = 280, 56, 44, 12
    plot_width, plot_height = WIDTH - left - 12, height - bottom - top
    totals = [sum(v[s.key] for s in series) for v in values]
    ceiling = _nice_ceiling(max(totals, default=0))
    parts = [_open(ident, title, description, height), f'<g {FONT} fill="{TEXT}">']
    for i in range(5):  # the grid and the count axis
        y = top + plot_height - plot_height * i / 4
        parts.append(f'<line x1="{left}" x2="{WIDTH - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_count(ceiling * i / 4)}</text>')
    slot = plot_width / max(1, len(labels))
    bar = max(1.0, slot * 0.7)
    every = max(1, math.ceil(len(labels) / 10))  # about ten labels along the axis, whatever the period
    for i, (label, value) in enumerate(zip(labels, values)):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_height
        for s in series:
            count = value[s.key]
            if not count:
                continue
            h = plot_height * count / ceiling
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{escape(label)}: {escape(s.label)} {count}</title></rect>"
            )
        if i % every == 0:
            middle = x + bar / 2
            parts.append(
                f'<text x="{middle:.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(label[5:])}</text>'
            )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def stacked_bars(
    ident: str, title: str, description: str, labels: list[str], values: list[dict[str, int]], series=OUTCOME_SERIES
) -> Markup:
    """One bar per label (a region, a version), its segments as shares of the bar, with the total at its end."""
    row, left, right = 28, 150, 90
    height = max(1, len(labels)) * row + 8
    plot = WIDTH - left - right
    parts = [_open(ident, title, description, height), f'<g {FONT} fill="{TEXT}">']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 4 + i * row
        total = sum(value[s.key] for s in series)
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(_short(label))}</text>')
        x = float(left)
        for s in series:
            count = value[s.key]
            if not count:
                continue
            w = plot * count / total
            share = f"{100 * count / total:.0f}%"
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row - 8}" fill="{s.color}">'
                f"<title>{escape(label)}: {escape(s.label)} {count} ({share})</title></rect>"
            )
            x += w
        parts.append(f'<text x="{WIDTH - right + 8}" y="{y + 16}">{total}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def rate_bars(ident: str, title: str, description: str, labels: list[str], rates: list[float | None]) -> Markup:
    """One bar per label (a category): the share of decisions that granted it, from 0 to 100%."""
    row, left, right = 28, 150, 70
    height = max(1, len(labels)) * row + 24
    plot = WIDTH - left - right
    parts = [_open(ident, title, description, height), f'<g {FONT} fill="{TEXT}">']
    for tick in range(0, 101, 25):
        x = left + plot * tick / 100
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 20}" stroke="{GRID}"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{tick}%</text>')
    for i, (label, rate) in enumerate(zip(labels, rates)):
        y = 4 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(_short(label))}</text>')
        if rate is None:
            parts.append(f'<text x="{left + 4}" y="{y + 16}">no decision</text>')
            continue
        w = plot * rate
        parts.append(
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 8}" fill="{OUTCOME_SERIES[0].color}">'
            f"<title>{escape(label)}: granted in {100 * rate:.1f}% of decisions</title></rect>"
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{100 * rate:.0f}%</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _count(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _short(label: str) -> str:
    return label if len(label) <= 20 else label[:12] + "…"
