"""The consent-rate report as a page: the report's numbers as charts (inline SVG) and tables, rendered on the
server. The page carries no script and no inline style, so it is served under a strict Content Security Policy."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import pycountry
from flask import render_template

from ..models import Site
from . import charts

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@lru_cache(maxsize=512)
def region_name(code: str) -> str:
    """``US-CA`` -> ``US-CA (California)``; the code alone when the name is unknown."""
    found = pycountry.subdivisions.get(code=code) if "-" in code else pycountry.countries.get(alpha_2=code)
    return f"{code} ({found.name})" if found is not None else code


def render(site: Site, report: dict) -> str:
    days, regions, versions = report["by_day"], report["by_region"], report["by_version"]
    categories = report["by_category"]
    last_day = date.fromisoformat(report["until"][:10]) - timedelta(days=1)
    figures = {
        "days": charts.stacked_columns(
            "chart-days",
            "Banners and answers per day",
            f"A column per day from {report['since'][:10]} to {last_day}: accept all, reject all, custom choices, "
            "other decisions and estimated no action, stacked. The table that follows gives every number.",
            [row["key"] for row in days],
            [charts.outcome_values(row) for row in days],
        ),
        "regions": charts.stacked_bars(
            "chart-regions",
            "Answers by region",
            f"A bar per region, {len(regions)} in all, most banners first, split into the shares of each outcome.",
            [row["key"] for row in regions],
            [charts.outcome_values(row) for row in regions],
        ),
        "versions": charts.stacked_bars(
            "chart-versions",
            "Answers by published version",
            f"A bar per published version, {len(versions)} in all, newest first, split into the shares of each "
            "outcome.",
            [_version(row) for row in versions],
            [charts.outcome_values(row) for row in versions],
        ),
        "categories": charts.rate_bars(
            "chart-categories",
            "Granted rate by category",
            f"A bar per category, {len(categories)} in all: the share of decisions that granted it.",
            [row["key"] for row in categories],
            [row["granted_rate"] for row in categories],
        ),
    }
    return render_template(
        "report.html",
        report=report,
        name=site.name,
        since_day=report["since"][:10],
        last_day=last_day.isoformat(),
        charts=figures,
        legend=charts.legend(),
        day_label=lambda row: row["key"],
        region_label=lambda row: region_name(row["key"]),
        version_label=lambda row: f"{_version(row)} ({row['key'][:12]}…)",
    )


def _version(row: dict) -> str:
    return f"version {row['number']}" if row.get("number") else row["key"][:12]
