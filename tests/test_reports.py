"""Banner impressions, counted without any identifier, and the consent-rate report built from them and the log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from consent.extensions import db

from .conftest import ApiClient, issue_key, make_app
from .test_decisions import FIREFOX, QUADIENT_PAGE, decide, version

EVERYTHING = {"necessary": True, "analytics": True, "marketing": True}
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def shown(client, site="quadient", headers=None, **body):
    payload = {"version": body.pop("version", None) or version(client, site), "region": "FR", **body}
    headers = {"User-Agent": FIREFOX, "Origin": QUADIENT_PAGE, **(headers or {})}
    return client.post(f"/api/v1/impressions/{site}", json=payload, headers=headers)


def counters(app):
    with app.app_context():
        return db.session.execute(sa.text("SELECT * FROM impression_counts ORDER BY region")).mappings().all()


@pytest.fixture
def auditor(app, client, quadient) -> ApiClient:
    return ApiClient(client, issue_key(app, "auditor", "quadient"))


# --- impressions -----------------------------------------------------------------------------------------------


def test_a_banner_shown_adds_one_to_a_counter_that_holds_no_identifier(app, client, quadient):
    for region in ("FR", "FR", "US-CA"):
        response = shown(client, region=region)
        assert response.status_code == 202 and response.json == {"counted": True}
    rows = counters(app)
    assert [(row["region"], row["count"]) for row in rows] == [("FR", 2), ("US-CA", 1)]
    assert set(rows[0].keys()) == {"site_id", "day", "version", "region", "count"}  # no IP, no consent ID
    assert str(rows[0]["day"]) == datetime.now(UTC).date().isoformat() and rows[0]["version"] == version(client)


def test_send_beacons_text_plain_body_is_counted_and_the_sites_pages_may_call(app, client, quadient):
    body = f'{{"version": "{version(client)}", "region": "DE"}}'
    response = client.post(
        "/api/v1/impressions/quadient",
        data=body,
        content_type="text/plain;charset=UTF-8",
        headers={"User-Agent": FIREFOX, "Origin": QUADIENT_PAGE},
    )
    assert response.status_code == 202 and response.headers["Access-Control-Allow-Origin"] == QUADIENT_PAGE
    assert counters(app)[0]["region"] == "DE"


def test_bots_and_other_origins_are_not_counted(app, client, quadient):
    answer = shown(client, headers={"User-Agent": GOOGLEBOT})
    assert answer.status_code == 200 and answer.json == {"counted": False, "reason": "bot"}
    refused = shown(client, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert counters(app) == []


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"version": "nothex"}, 422, "version"),
        ({"version": "ab" * 32}, 422, "version"),  # a version the site never published
        ({"region": "ZZ"}, 422, "region"),
        ({"version": None}, 422, "version"),
    ],
)
def test_a_bad_impression_is_refused_naming_the_field(app, client, quadient, body, status, field):
    payload = {"version": version(client), "region": "FR", **body}
    response = client.post("/api/v1/impressions/quadient", json=payload, headers={"User-Agent": FIREFOX})
    assert response.status_code == status, response.json
    assert field in response.json["errors"]["json"]
    assert counters(app) == []


def test_a_body_that_is_not_json_is_refused(client, quadient):
    headers = {"User-Agent": FIREFOX}
    assert (
        client.post("/api/v1/impressions/quadient", data="{", content_type="text/plain", headers=headers).status_code
        == 400
    )
    assert (
        client.post("/api/v1/impressions/quadient", data="x", content_type="text/csv", headers=headers).status_code
        == 415
    )
    assert client.post("/api/v1/impressions/nosuch", json={"version": "ab" * 32}, headers=headers).status_code == 404


def test_impressions_are_rate_limited_per_address_and_site(database_url, quadient):
    app = make_app(database_url, impression_rate_limit="2 per minute")
    client = app.test_client()
    assert [shown(client).status_code for _ in range(3)] == [202, 202, 429]
    assert decide(client).status_code == 201  # decisions have limits of their own


def test_a_process_counts_in_memory_and_writes_its_counts_in_one_go(database_url, quadient):
    app = make_app(database_url, impression_flush_seconds=3600)
    client = app.test_client()
    for _ in range(5):
        shown(client)
    assert counters(app) == []
    with app.app_context():
        assert app.extensions["cmp.impressions"].flush() == 1
    assert counters(app)[0]["count"] == 5
    for _ in range(2):
        shown(client)
    with app.app_context():
        app.extensions["cmp.impressions"].flush()
    assert counters(app)[0]["count"] == 7


# --- the report ------------------------------------------------------------------------------------------------


@pytest.fixture
def activity(app, client, quadient):
    for region in ("FR",) * 6 + ("US-CA",) * 3:
        shown(client, region=region)
    decide(client)
    decide(client, method="accept_all", choices=EVERYTHING, control="accept_all")
    decide(client, method="accept_all", choices=EVERYTHING, control="accept_all", region="US-CA")
    decide(
        client,
        method="gpc",
        choices={**EVERYTHING, "marketing": False},
        control=None,
        region="US-CA",
        signals={"gpc": True, "dnt": False},
    )


def test_the_report_counts_banners_and_answers_by_day_region_version_and_category(auditor, activity):
    response = auditor.get("/api/v1/sites/quadient/consent-rates")
    assert response.status_code == 200 and response.mimetype == "application/json"
    report = response.json
    totals = report["totals"]
    assert (totals["impressions"], totals["decisions"], totals["accept_all"], totals["reject_all"]) == (9, 4, 2, 1)
    assert (totals["gpc"], totals["no_action"]) == (1, 6)
    today = datetime.now(UTC).date()
    assert len(report["by_day"]) == 30 and report["by_day"][-1]["key"] == today.isoformat()
    assert report["until"] == f"{today + timedelta(days=1)}T00:00:00.000000Z"
    regions = {row["key"]: row for row in report["by_region"]}
    assert (regions["FR"]["impressions"], regions["FR"]["accept_all"], regions["FR"]["no_action"]) == (6, 1, 4)
    assert (regions["US-CA"]["gpc"], regions["US-CA"]["no_action"]) == (1, 2)
    [only] = report["by_version"]
    assert only["number"] == 1 and only["impressions"] == 9
    categories = {row["key"]: row for row in report["by_category"]}
    assert categories["marketing"] == {"key": "marketing", "granted": 2, "refused": 2, "granted_rate": 0.5}


def test_the_report_as_csv_and_as_a_page_under_a_strict_policy(auditor, activity):
    response = auditor.get("/api/v1/sites/quadient/consent-rates?format=csv&since=2026-01-01&until=2026-02-01")
    assert response.mimetype == "text/csv"
    assert 'filename="quadient-consent-rates-2026-01-01-to-2026-02-01.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))
    assert rows[0]["dimension"] == "period" and len([r for r in rows if r["dimension"] == "day"]) == 31
    page = auditor.get("/api/v1/sites/quadient/consent-rates?format=html")
    assert page.mimetype == "text/html" and "default-src 'none'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    assert "<script" not in html and "style=" not in html
    assert "US-CA (California)" in html


@pytest.mark.parametrize(
    "query, field",
    [("since=2020-01-01&until=2022-01-01", "until"), ("format=pdf", "format"), ("since=soon", "since")],
)
def test_a_bad_report_query_is_refused_naming_the_field(auditor, quadient, query, field):
    response = auditor.get(f"/api/v1/sites/quadient/consent-rates?{query}")
    assert response.status_code == 422 and field in response.json["errors"]["query"]


def test_only_the_sites_keys_read_its_report(client, owner_of, examples):
    assert owner_of("quadient").get("/api/v1/sites/quadient/consent-rates").status_code == 200
    assert owner_of("optipost", role="auditor").get("/api/v1/sites/quadient/consent-rates").status_code == 403
    assert client.get("/api/v1/sites/quadient/consent-rates").status_code == 401


def test_the_command_line_writes_the_report(app, activity, tmp_path):
    result = app.test_cli_runner().invoke(args=["cmp", "consent-report", "quadient"])
    assert result.exit_code == 0 and '"impressions": 9' in result.output
    page = tmp_path / "report.html"
    result = app.test_cli_runner().invoke(args=["cmp", "consent-report", "quadient", "--format", "html", "-o", page])
    assert result.exit_code == 0 and "Consent rates of Quadient" in page.read_text()
