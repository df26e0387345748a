"""The consent-rate report's arithmetic, its CSV, and its charts: counts in, counts out, no personal data."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree

from consent.core import reports
from consent.web import charts

V1, V2 = "a" * 64, "b" * 64


def document(method="accept_all", day="2026-11-02", country="FR", subdivision=None, version=V1, **choices):
    return {
        "method": method,
        "time": f"{day}T10:00:00.000000Z",
        "region": {"country": country, "subdivision": subdivision, "source": "header:cloudflare"},
        "version": version,
        "choices": choices or {"necessary": True, "analytics": method == "accept_all"},
    }


def report(records, impressions, days=("2026-11-01", "2026-11-02", "2026-11-03")):
    return reports.Report(
        site="shop",
        since="2026-11-01T00:00:00.000000Z",
        until="2026-11-04T00:00:00.000000Z",
        tally=reports.tally(records, impressions),
        version_numbers={V1: 1, V2: 2},
        category_order=["necessary", "analytics"],
        days=days,
    ).as_dict()


RECORDS = [
    document("accept_all"),
    document("accept_all", country="US", subdivision="US-CA", version=V2),
    document("reject_all"),
    document("custom", day="2026-11-03", necessary=True, analytics=False),
    document("gpc", country="US", subdivision="US-CA", version=V2),
    document("withdrawal", day="2026-11-03"),
]
IMPRESSIONS = [("2026-11-02", "FR", V1, 7), ("2026-11-02", "US-CA", V2, 3), ("2026-11-03", "FR", V1, 2)]


def test_outcomes_count_each_method_and_no_action_is_impressions_without_an_answer():
    totals = report(RECORDS, IMPRESSIONS)["totals"]
    assert totals["impressions"] == 12 and totals["decisions"] == 6
    assert (totals["accept_all"], totals["reject_all"], totals["custom"]) == (2, 1, 1)
    assert (totals["gpc"], totals["withdrawal"], totals["dnt"]) == (1, 1, 0)
    assert totals["no_action"] == 12 - 4  # GPC and the withdrawal answered no banner


def test_every_day_of_the_period_is_reported_oldest_first_even_without_counts():
    by_day = report(RECORDS, IMPRESSIONS)["by_day"]
    assert [(d["key"], d["impressions"], d["decisions"]) for d in by_day] == [
        ("2026-11-01", 0, 0),
        ("2026-11-02", 10, 4),
        ("2026-11-03", 2, 2),
    ]


def test_regions_are_subdivisions_where_known_most_impressions_first():
    by_region = report(RECORDS, IMPRESSIONS)["by_region"]
    assert [(r["key"], r["impressions"], r["accept_all"], r["gpc"]) for r in by_region] == [
        ("FR", 9, 1, 0),
        ("US-CA", 3, 1, 1),
    ]
    assert reports.region_key(None, None) == "unknown"


def test_versions_are_reported_newest_first_with_their_numbers():
    by_version = report(RECORDS, IMPRESSIONS)["by_version"]
    assert [(v["number"], v["impressions"], v["decisions"]) for v in by_version] == [(2, 3, 2), (1, 9, 4)]


def test_a_categorys_granted_rate_counts_every_decisions_choice():
    by_category = report(RECORDS, IMPRESSIONS)["by_category"]
    assert by_category[0] == {"key": "necessary", "granted": 6, "refused": 0, "granted_rate": 1.0}
    assert by_category[1] == {"key": "analytics", "granted": 2, "refused": 4, "granted_rate": 0.3333}


def test_no_action_is_never_negative():
    assert report([document("accept_all")] * 3, [("2026-11-02", "FR", V1, 1)])["totals"]["no_action"] == 0


def test_the_csv_is_one_table_a_spreadsheet_reads():
    text = reports.report_csv(report(RECORDS, IMPRESSIONS))
    assert text.startswith("\ufeffdimension,key,impressions,decisions,accept_all")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert rows[0]["dimension"] == "period" and rows[0]["impressions"] == "12" and rows[0]["no_action"] == "8"
    assert [r["key"] for r in rows if r["dimension"] == "day"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    analytics = next(r for r in rows if r["dimension"] == "category" and r["key"] == "analytics")
    assert (analytics["granted"], analytics["refused"], analytics["granted_rate"], analytics["impressions"]) == (
        "2",
        "4",
        "0.3333",
        "",
    )


# --- charts ----------------------------------------------------------------------------------------------------


def parse(svg) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


SVG = "{http://www.w3.org/2000/svg}"


def test_a_chart_is_an_image_named_by_its_title_and_description():
    rows = report(RECORDS, IMPRESSIONS)["by_day"]
    svg = parse(
        charts.stacked_columns(
            "days",
            "Outcomes per day",
            "Banners and answers per day",
            [r["key"] for r in rows],
            [charts.outcome_values(r) for r in rows],
        )
    )
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "days-title days-desc"
    assert svg.find(f"{SVG}title").text == "Outcomes per day" and svg.find(f"{SVG}desc").get("id") == "days-desc"
    assert "style" not in str(charts.legend()) and not any("style" in e.attrib for e in svg.iter())  # strict CSP


def test_column_heights_are_proportional_to_the_counts():
    values = [{"accept_all": 10, "reject_all": 0, "custom": 0, "signals": 0, "no_action": 30}]
    svg = parse(charts.stacked_columns("d", "t", "d", ["2026-11-02"], values))
    heights = {r.find(f"{SVG}title").text.split(": ")[1]: float(r.get("height")) for r in svg.iter(f"{SVG}rect")}
    assert abs(heights["No action (estimated) 30"] - 3 * heights["Accept all 10"]) < 0.2


def test_bars_show_shares_and_rates_and_escape_labels():
    values = [{"accept_all": 1, "reject_all": 3, "custom": 0, "signals": 0, "no_action": 0}]
    svg = parse(charts.stacked_bars("r", "t", "d", ["<FR>"], values))
    titles = [r.find(f"{SVG}title").text for r in svg.iter(f"{SVG}rect")]
    assert titles == ["<FR>: Accept all 1 (25%)", "<FR>: Reject all 3 (75%)"]
    rates = parse(charts.rate_bars("c", "t", "d", ["analytics", "social"], [0.5, None]))
    texts = [t.text for t in rates.iter(f"{SVG}text")]
    assert "50%" in texts and "no decision" in texts
