"""Export formats and filters: CSV a spreadsheet reads safely, NDJSON whose records re-hash byte for byte."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest

from consent.core import exports, merkle
from consent.core import records as rec


def record(**changes) -> rec.ConsentRecord:
    values = {
        "record_id": "65b71f2f-e6bc-4841-9019-e76b6f4d768f",
        "site": "quadient",
        "consent_id": "UfGJtkQFUWfChze-LlZCvw",
        "time": datetime(2026, 11, 22, 2, 14, 2, 740505, tzinfo=UTC),
        "version": "ab" * 32,
        "language": "fr",
        "choices": {"necessary": True, "analytics": False, "marketing": True},
        "method": rec.Method.CUSTOM,
        "region": {"country": "US", "subdivision": "US-CA", "source": "header:cloudflare"},
        "rule": {"key": "california", "law": "CCPA/CPRA", "model": "opt_out"},
        "personal_digest": "0" * 64,
        "layer": 2,
        "control": "save",
    }
    return rec.ConsentRecord(**{**values, **changes})


PERSONAL = {
    "browser": "Firefox 140",
    "device": "desktop",
    "ip": "203.0.113.0/24",
    "os": "Linux",
    "url": "https://x.example/a",
}


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def csv_of(*rows, categories=("necessary", "analytics", "marketing"), personal=True) -> list[dict]:
    layout = exports.CsvLayout(list(categories), personal)
    return read_csv(layout.header() + "".join(layout.row(*row) for row in rows))


# --- CSV -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_a_leading_apostrophe(start):
    assert exports.cell(f"{start}HYPERLINK(1)").lstrip('"').startswith(f"'{start}")


def test_cells_with_commas_quotes_or_line_breaks_are_quoted_as_rfc_4180_says():
    assert exports.cell('He said "yes", then\nleft') == '"He said ""yes"", then\nleft"'
    assert exports.cell("plain text") == "plain text"


def test_a_row_holds_every_field_an_auditor_expects_with_one_column_per_category():
    document = record().document()
    [row] = csv_of((7, "cd" * 32, document, PERSONAL))
    assert row["log_position"] == "7" and row["record_hash"] == "cd" * 32
    assert row["record_id"] == document["record"] and row["consent_id"] == "UfGJtkQFUWfChze-LlZCvw"
    assert row["time"] == "2026-11-22T02:14:02.740505Z"
    region = (row["region_country"], row["region_subdivision"], row["region_source"])
    assert region == ("US", "US-CA", "header:cloudflare")
    assert (row["rule"], row["law"], row["consent_model"]) == ("california", "CCPA/CPRA", "opt_out")
    assert (row["method"], row["layer"], row["control"]) == ("custom", "2", "save")
    assert (row["sec_gpc"], row["gpc"], row["dnt"]) == ("false", "false", "false")
    assert (row["version"], row["language"]) == ("ab" * 32, "fr")
    assert [row[f"choice:{c}"] for c in ("necessary", "analytics", "marketing")] == ["granted", "refused", "granted"]
    assert row["personal_data"] == "kept" and row["ip"] == "203.0.113.0/24" and row["page_url"] == "https://x.example/a"
    assert (row["browser"], row["os"], row["device"]) == ("Firefox 140", "Linux", "desktop")


def test_hostile_values_are_defused_and_quoted_and_the_row_keeps_its_columns():
    document = record(consent_id="-Z1GJtkQFUWfChze-LlZCv", rule={"key": "x", "law": 'Law "A", §2', "model": "opt_in"})
    personal = {**PERSONAL, "browser": "=cmd|' /C calc'!A0", "url": "https://x.example/a,b\r\nc"}
    [row] = csv_of((0, "cd" * 32, document.document(), personal))
    assert row["consent_id"] == "'-Z1GJtkQFUWfChze-LlZCv"
    assert row["law"] == 'Law "A", §2'
    assert row["browser"] == "'=cmd|' /C calc'!A0"
    assert row["page_url"] == "https://x.example/a,b\r\nc"
    assert row["record_hash"] == "cd" * 32


def test_a_category_the_records_version_lacks_is_empty_and_erased_personal_data_says_so():
    [row] = csv_of((None, "cd" * 32, record().document(), None), categories=("necessary", "statistics"))
    assert row["choice:statistics"] == "" and row["log_position"] == ""
    assert row["personal_data"] == "erased" and row["ip"] == ""


def test_without_personal_data_its_columns_are_left_out():
    [row] = csv_of((1, "cd" * 32, record().document(), None), personal=False)
    assert not set(exports.PERSONAL_COLUMNS) & set(row)


def test_category_columns_follow_the_newest_version_then_older_ones():
    assert exports.category_columns([["necessary", "ads"], ["necessary", "stats", "ads"], ["social"]]) == [
        "necessary",
        "ads",
        "stats",
        "social",
    ]


# --- NDJSON ----------------------------------------------------------------------------------------------------


def test_an_ndjson_line_embeds_the_canonical_record_which_re_hashes_to_its_leaf():
    value = record()
    canonical = value.canonical().decode()
    personal = rec.canonical_json(PERSONAL).decode()
    line = exports.ndjson_line(3, value.leaf().hex(), canonical, "11" * 16, personal)
    parsed = json.loads(line)
    assert parsed["position"] == 3 and parsed["record_hash"] == value.leaf().hex()
    cut = line[line.index('"record":{') + 9 : -2].encode()  # the record is last: cut it out byte for byte
    assert cut == canonical.encode() and merkle.leaf_hash(cut).hex() == parsed["record_hash"]
    assert merkle.leaf_hash(rec.canonical_json(parsed["record"])) == value.leaf()  # or parse and re-serialize
    data = rec.canonical_json(parsed["personal"]["data"])
    assert hashlib.sha256(bytes.fromhex(parsed["personal"]["salt"]) + data).hexdigest() == rec.personal_digest(
        "11" * 16, personal.encode()
    )


def test_an_ndjson_line_says_personal_data_were_erased_or_leaves_them_out():
    canonical = record().canonical().decode()
    assert json.loads(exports.ndjson_line(None, "cd" * 32, canonical))["personal"] is None
    assert 'personal":{' not in exports.ndjson_line(1, "cd" * 32, canonical, with_personal=False)
    assert "personal" not in json.loads(exports.ndjson_line(1, "cd" * 32, canonical, with_personal=False))


# --- filters ---------------------------------------------------------------------------------------------------


def test_a_country_selects_its_subdivisions_and_a_subdivision_only_itself():
    document = record().document()
    assert exports.ExportFilter(regions=("US",)).matches(document)
    assert exports.ExportFilter(regions=("US-CA",)).matches(document)
    assert not exports.ExportFilter(regions=("US-NY", "FR")).matches(document)


def test_methods_select_any_and_category_states_must_all_hold():
    document = record().document()
    assert exports.ExportFilter(methods=("accept_all", "custom")).matches(document)
    assert not exports.ExportFilter(methods=("gpc",)).matches(document)
    assert exports.ExportFilter(categories=(("analytics", False), ("marketing", True))).matches(document)
    assert not exports.ExportFilter(categories=(("analytics", False), ("marketing", False))).matches(document)
    assert not exports.ExportFilter(categories=(("statistics", True),)).matches(document)
    assert not exports.ExportFilter().reads_records and exports.ExportFilter(methods=("gpc",)).reads_records


@pytest.mark.parametrize(
    "text, expected",
    [("analytics=granted", ("analytics", True)), ("ads:refused", ("ads", False))],
)
def test_a_category_state_is_a_category_and_granted_or_refused(text, expected):
    assert exports.parse_category_state(text) == expected


@pytest.mark.parametrize("text", ["analytics", "analytics=yes", "=granted"])
def test_a_malformed_category_state_is_refused(text):
    with pytest.raises(ValueError):
        exports.parse_category_state(text)
