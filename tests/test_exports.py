"""Exports of a site's consent log, through the API and the command line: what they hold, what they filter, who
may read them, and what they refuse."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from consent.core import merkle
from consent.extensions import db

from .conftest import ApiClient, issue_key, republish
from .test_decisions import decide

EVERYTHING = {"necessary": True, "analytics": True, "marketing": True}
ANALYTICS_ONLY = {"necessary": True, "analytics": True, "marketing": False}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["cmp", *map(str, args)])


@pytest.fixture
def logged(app, client, quadient):
    """Four decisions of four visitors in two regions, sequenced, and one still queued."""
    answers = [
        decide(client).json,
        decide(client, method="accept_all", choices=EVERYTHING, control="accept_all", region="US-CA").json,
        decide(client, method="custom", choices=ANALYTICS_ONLY, control="save", layer=2).json,
        decide(client, region="DE").json,
    ]
    run(app, "checkpoint", "quadient")
    answers.append(decide(client, method="accept_all", choices=EVERYTHING, control="accept_all").json)
    return answers


@pytest.fixture
def auditor(app, client, quadient) -> ApiClient:
    return ApiClient(client, issue_key(app, "auditor", "quadient"))


def export(auditor, query: str):
    return auditor.get(f"/api/v1/sites/quadient/records?{query}")


def ndjson(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def spreadsheet(response) -> list[dict]:
    text = response.get_data().decode("utf-8-sig")  # the BOM spreadsheet programs look for
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_an_auditor_exports_the_log_as_csv_a_spreadsheet_opens(auditor, logged):
    response = export(auditor, "format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert 'filename="quadient-consent-log-start-to-now.csv"' in response.headers["Content-Disposition"]
    assert response.get_data().startswith(b"\xef\xbb\xbflog_position,record_id,")
    assert b"\r\n" in response.get_data()  # RFC 4180 line breaks
    rows = spreadsheet(response)
    assert [row["record_id"] for row in rows] == [answer["record_id"] for answer in logged]
    assert [row["log_position"] for row in rows] == ["0", "1", "2", "3", ""]  # the last is still queued
    assert [row["record_hash"] for row in rows] == [answer["record_hash"] for answer in logged]
    custom = rows[2]
    assert (custom["method"], custom["layer"], custom["control"]) == ("custom", "2", "save")
    assert [custom[f"choice:{c}"] for c in ("necessary", "analytics", "marketing")] == ["granted", "granted", "refused"]
    assert rows[1]["region_subdivision"] == "US-CA" and rows[1]["rule"] == "california"
    assert (custom["ip"], custom["browser"], custom["device"]) == ("203.0.113.0/24", "Firefox 140", "desktop")
    assert custom["page_url"] == "https://www.quadient.com/en/products"


def test_ndjson_records_re_hash_to_their_leaf_and_personal_data_to_their_digest(app, auditor, logged):
    lines = export(auditor, "format=ndjson").get_data(as_text=True).splitlines()
    assert len(lines) == 5
    for text, answer in zip(lines, logged, strict=True):
        canonical = text[text.index('"record":{') + 9 : -1].encode()
        assert merkle.leaf_hash(canonical).hex() == answer["record_hash"] == json.loads(text)["record_hash"]
        line = json.loads(text)
        personal = json.dumps(line["personal"]["data"], sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(bytes.fromhex(line["personal"]["salt"]) + personal).hexdigest()
        assert digest == line["record"]["personal"]
    with app.app_context():
        stored = db.session.scalars(sa.text("SELECT document FROM consent_records ORDER BY id")).all()
    assert [line[line.index('"record":{') + 9 : -1] for line in lines] == stored  # verbatim


def test_exports_filter_by_region_method_category_state_and_consent_id(auditor, logged):
    def ids(query):
        return [line["record"]["record"] for line in ndjson(export(auditor, f"format=ndjson&{query}"))]

    assert ids("region=US") == [logged[1]["record_id"]]
    assert ids("region=DE&region=US-CA") == [logged[1]["record_id"], logged[3]["record_id"]]
    assert ids("method=accept_all") == [logged[1]["record_id"], logged[4]["record_id"]]
    assert ids("category=analytics:granted&category=marketing:refused") == [logged[2]["record_id"]]
    assert ids("category=analytics=refused") == [logged[0]["record_id"], logged[3]["record_id"]]
    assert ids(f"consent_id={logged[2]['consent_id']}") == [logged[2]["record_id"]]
    rows = spreadsheet(export(auditor, "format=csv&method=reject_all&region=FR"))
    assert [row["record_id"] for row in rows] == [logged[0]["record_id"]]


def test_exports_filter_by_time(app, client, auditor, quadient, monkeypatch):
    from consent import recording

    old = datetime(2026, 1, 15, 12, tzinfo=UTC)
    monkeypatch.setattr(recording, "utcnow", lambda: old)
    first = decide(client).json
    monkeypatch.setattr(recording, "utcnow", lambda: old + timedelta(days=1))
    second = decide(client).json
    monkeypatch.undo()
    run(app, "checkpoint", "quadient")

    def ids(query):
        return [line["record"]["record"] for line in ndjson(export(auditor, f"format=ndjson&{query}"))]

    assert ids("since=2026-01-16") == [second["record_id"]]
    assert ids("until=2026-01-16") == [first["record_id"]]
    assert ids("since=2026-01-15T12:00:00Z&until=2026-01-16T12:00:00Z") == [first["record_id"]]
    assert ids("since=2026-01-15T13:00:00%2B01:00&until=2026-01-17") == [first["record_id"], second["record_id"]]
    assert ids("since=2026-02-01") == []
    response = export(auditor, "format=csv&since=2026-01-01&until=2026-02-01")
    assert 'filename="quadient-consent-log-2026-01-01-to-2026-02-01.csv"' in response.headers["Content-Disposition"]


def test_erased_personal_data_is_exported_as_erased_and_can_be_left_out(app, auditor, logged):
    run(app, "erase", "quadient", logged[0]["consent_id"])
    lines = ndjson(export(auditor, "format=ndjson"))
    assert lines[0]["personal"] is None and lines[1]["personal"]["data"]["ip"] == "203.0.113.0/24"
    rows = spreadsheet(export(auditor, "format=csv"))
    assert (rows[0]["personal_data"], rows[0]["ip"]) == ("erased", "") and rows[1]["personal_data"] == "kept"
    assert all("personal" not in line for line in ndjson(export(auditor, "format=ndjson&personal=false")))
    assert "ip" not in spreadsheet(export(auditor, "format=csv&personal=false"))[0]


def test_every_category_of_the_versions_of_the_period_gets_a_column(app, client, auditor, logged, tmp_path):
    def add_statistics(text):
        return text.replace(
            "categories:\n",
            "categories:\n- key: statistics\n  purpose: analytics\n  name:\n    en: Statistics\n",
            1,
        )

    republish(app, tmp_path, "quadient", add_statistics)
    choices = {**EVERYTHING, "statistics": True}
    newer = decide(client, method="accept_all", choices=choices, control="accept_all").json
    header = export(auditor, "format=csv").get_data().decode("utf-8-sig").splitlines()[0]
    assert "choice:statistics,choice:necessary,choice:analytics,choice:marketing" in header
    rows = {row["record_id"]: row for row in spreadsheet(export(auditor, "format=csv"))}
    assert rows[newer["record_id"]]["choice:statistics"] == "granted"
    assert rows[logged[0]["record_id"]]["choice:statistics"] == ""  # not in the version that visitor saw


def test_a_purged_record_is_no_longer_exported(app, client, auditor, quadient, monkeypatch):
    from consent import recording

    monkeypatch.setattr(recording, "utcnow", lambda: datetime.now(UTC) - timedelta(days=6 * 365))
    decide(client)
    monkeypatch.undo()
    kept = decide(client).json
    assert run(app, "purge", "quadient", "--yes").exit_code == 0
    lines = ndjson(export(auditor, "format=ndjson"))
    assert [(line["position"], line["record"]["record"]) for line in lines] == [(1, kept["record_id"])]


def test_owner_and_admin_keys_export_too_but_no_other_sites_key(app, client, admin, owner_of, logged, examples):
    assert owner_of("quadient").get("/api/v1/sites/quadient/records?format=csv").status_code == 200
    assert admin.get("/api/v1/sites/quadient/records?format=csv").status_code == 200
    other = owner_of("optipost", role="auditor").get("/api/v1/sites/quadient/records?format=csv")
    assert other.status_code == 403 and "another site" in other.json["message"]
    assert client.get("/api/v1/sites/quadient/records?format=csv").status_code == 401


@pytest.mark.parametrize(
    "query, field",
    [
        ("", "format"),
        ("format=xml", "format"),
        ("format=csv&since=2026-13-01", "since"),
        ("format=csv&since=yesterday", "since"),
        ("format=csv&since=2026-02-01&until=2026-01-01", "until"),
        ("format=csv&until=0001-01-01T00:00:00%2B01:00", "until"),
        ("format=csv&region=ZZ", "region"),
        ("format=csv&method=clicked", "method"),
        ("format=csv&category=analytics", "category"),
        ("format=csv&category=analytics:maybe", "category"),
        ("format=csv&consent_id=short", "consent_id"),
        ("format=csv&personal=perhaps", "personal"),
        ("format=csv&methods=gpc", "methods"),  # a mistyped filter is refused, not ignored
    ],
)
def test_a_bad_query_is_refused_naming_the_field(auditor, logged, query, field):
    response = export(auditor, query)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"]["query"]


def test_the_command_line_exports_what_the_api_does(app, auditor, logged, tmp_path):
    output = tmp_path / "log.csv"
    result = run(app, "export-log", "quadient", "--format", "csv", "--method", "accept_all", "-o", output)
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == export(auditor, "format=csv&method=accept_all").get_data()
    result = run(app, "export-log", "quadient", "--format", "ndjson", "--category", "analytics=granted")
    assert result.output == export(auditor, "format=ndjson&category=analytics:granted").get_data(as_text=True)
    refused = run(app, "export-log", "quadient", "--since", "2026-02-30")
    assert refused.exit_code != 0 and "--since" in refused.output
    assert run(app, "export-log", "nosuch").exit_code != 0
