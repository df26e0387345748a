"""Audit bundles and tools/verify_bundle.py, the auditor's standalone verifier, run as its own process: a genuine
bundle checks out, and every way of tampering with one, or with the log before it was bundled, is named."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from consent.core.signing import SigningKey, parse_checkpoint, sign_checkpoint

from .conftest import ROOT, ApiClient, issue_key
from .test_decisions import decide
from .test_log import behind_the_services_back

SCRIPT = ROOT / "tools" / "verify_bundle.py"
EVERYTHING = {"necessary": True, "analytics": True, "marketing": True}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["cmp", *map(str, args)])


def check(path, *args):
    result = subprocess.run([sys.executable, str(SCRIPT), str(path), *map(str, args)], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def logged(app, client, quadient):
    """Six decisions of six visitors, each sequenced under a checkpoint of its own."""
    answers = []
    for i in range(6):
        if i == 3:
            answers.append(decide(client, method="accept_all", choices=EVERYTHING, control="accept_all").json)
        else:
            answers.append(decide(client).json)
        run(app, "checkpoint", "quadient")
    return answers


@pytest.fixture
def bundle(app, logged, tmp_path):
    path = tmp_path / "bundle.zip"
    result = run(app, "audit-bundle", "quadient", "-o", path)
    assert result.exit_code == 0, result.output
    return path


def rewrite(path, out=None, *, change=None, drop=(), add=None):
    """A copy of the bundle with members changed (name -> function of their bytes), dropped or added."""
    change, add = change or {}, add or {}
    out = out or path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name in drop:
                continue
            data = source.read(name)
            target.writestr(name, change[name](data) if name in change else data)
        for name, data in add.items():
            target.writestr(name, data)
    return out


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def edit_line(position: int, edit):
    return lambda data: b"".join(edit(line) if line.startswith(b"%d " % position) else line for line in lines(data))


def published_keys(client, tmp_path):
    path = tmp_path / "consent-keys.json"
    path.write_text(json.dumps(client.get("/.well-known/consent-keys.json").json))
    return path


# --- a genuine bundle ------------------------------------------------------------------------------------------


def test_a_genuine_bundle_checks_out_against_the_published_keys(client, bundle, logged, tmp_path):
    status, output = check(bundle, "--keys", published_keys(client, tmp_path))
    assert status == 0, output
    assert "audit bundle of consent.test/quadient: positions 0 to 5, checkpoint of size 6" in output
    assert "6 records re-hashed (6 in the period), 0 purged, 0 missing" in output
    assert "personal data: 6 checked against their digests, 0 erased" in output
    assert "1 published version(s)" in output and "OK: every record matches the signed log" in output


def test_without_keys_the_verifier_says_which_key_to_compare_with_the_published_one(client, bundle):
    status, output = check(bundle)
    kid = client.get("/.well-known/consent-keys.json").json["keys"][0]["kid"]
    assert status == 0 and f"checkpoints signed by consent.test, key {kid}" in output
    assert "compare the signing key above with the one the service publishes" in output


def test_a_bundle_holds_the_records_verbatim_the_versions_they_name_and_a_manifest(app, bundle, logged):
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        records = archive.read("records.txt").decode().splitlines()
        version = json.loads(decide_version_document(archive, manifest))
        with app.app_context():
            from consent.extensions import db

            stored = db.session.scalars(sa.text("SELECT document FROM consent_records ORDER BY id")).all()
    assert [line.split(" ", 2)[2] for line in records] == stored
    assert [line.split(" ", 2)[1] for line in records] == [answer["record_hash"] for answer in logged]
    assert manifest["positions"] == {"first": 0, "last": 5} and manifest["counts"]["records"] == 6
    assert manifest["checkpoint"]["tree_size"] == 6 and len(manifest["files"]) == 12
    assert [c["key"] for c in version["categories"]] == ["necessary", "analytics", "marketing"]


def decide_version_document(archive, manifest) -> bytes:
    [name] = manifest["versions"].values()
    return archive.read(name)


def test_the_api_serves_the_same_bundle_to_an_auditor(app, client, logged, tmp_path):
    auditor = ApiClient(client, issue_key(app, "auditor", "quadient"))
    response = auditor.get("/api/v1/sites/quadient/audit-bundle")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert 'filename="quadient-audit-bundle-start-to-now.zip"' in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == len(response.data)
    path = tmp_path / "from-the-api.zip"
    path.write_bytes(response.data)
    assert check(path)[0] == 0


def test_a_bundle_of_a_period_covers_its_records_with_a_proof_on_both_sides(
    app, client, quadient, monkeypatch, tmp_path
):
    from consent import recording

    days = [datetime(2026, 3, day, 12, tzinfo=UTC) for day in (1, 2, 2, 3, 4)]
    for day in days:
        monkeypatch.setattr(recording, "utcnow", lambda day=day: day)
        decide(client)
        run(app, "checkpoint", "quadient")
    monkeypatch.undo()
    path = tmp_path / "march-2.zip"
    result = run(app, "audit-bundle", "quadient", "--since", "2026-03-02", "--until", "2026-03-03", "-o", path)
    assert "positions 1 to 2" in result.output and "2 records (2 in the period)" in result.output
    with zipfile.ZipFile(path) as archive:
        proof = json.loads(archive.read("range-proof.json"))
    assert proof["left"] and proof["right"]  # subtrees before and after the run
    status, output = check(path)
    assert status == 0, output
    assert "period: 2026-03-02T00:00:00.000000Z to 2026-03-03T00:00:00.000000Z" in output


def test_purged_and_erased_records_still_check_out(app, client, quadient, monkeypatch, tmp_path):
    from consent import recording

    monkeypatch.setattr(recording, "utcnow", lambda: datetime.now(UTC) - timedelta(days=6 * 365))
    decide(client)
    monkeypatch.undo()
    kept = decide(client).json
    decide(client)
    run(app, "purge", "quadient", "--yes")
    run(app, "erase", "quadient", kept["consent_id"])
    path = tmp_path / "bundle.zip"
    assert run(app, "audit-bundle", "quadient", "-o", path).exit_code == 0
    status, output = check(path)
    assert status == 0, output
    assert "2 records re-hashed (2 in the period), 1 purged, 0 missing" in output
    assert "personal data: 1 checked against their digests, 1 erased" in output


def test_a_bundle_can_leave_personal_data_out(app, logged, tmp_path):
    path = tmp_path / "bundle.zip"
    assert run(app, "audit-bundle", "quadient", "--no-personal", "-o", path).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        assert "personal.txt" not in archive.namelist()
    status, output = check(path)
    assert status == 0 and "personal data: left out of this bundle" in output


def test_no_bundle_without_logged_records_in_the_period(app, client, logged, owner_of, examples):
    result = run(app, "audit-bundle", "quadient", "--since", "2001-01-01", "--until", "2001-02-01", "-o", "/tmp/x.zip")
    assert result.exit_code != 0 and "no logged records in that period" in result.output
    auditor = ApiClient(client, issue_key(app, "auditor", "quadient"))
    assert auditor.get("/api/v1/sites/quadient/audit-bundle?until=2001-01-01").status_code == 404
    assert auditor.get("/api/v1/sites/quadient/audit-bundle?since=2001-13-01").status_code == 422
    assert owner_of("optipost").get("/api/v1/sites/quadient/audit-bundle").status_code == 403


def test_the_verifier_needs_nothing_but_the_standard_library_and_cryptography():
    tree = ast.parse(SCRIPT.read_text())
    imported = {alias.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported - sys.stdlib_module_names == {"cryptography"}


# --- tampering with the bundle ---------------------------------------------------------------------------------


def test_a_bundle_with_a_record_altered_names_its_position(bundle):
    tampered = rewrite(
        bundle,
        change={"records.txt": edit_line(2, lambda line: line.replace(b'"analytics":false', b'"analytics":true'))},
    )
    status, output = check(tampered)
    assert status == 1
    assert "BROKEN [record_altered] position 2: the record does not match the hash" in output
    assert "BROKEN [file_altered] bundle: records.txt does not match the SHA-256 the manifest lists" in output


def test_a_record_altered_with_its_hash_recomputed_is_caught_by_the_signed_tree_at_its_position(bundle):
    import hashlib

    def forge(line):
        position, _, record = line.rstrip(b"\n").split(b" ", 2)
        record = record.replace(b'"analytics":false', b'"analytics":true')
        return b"%s %s %s\n" % (position, hashlib.sha256(b"\x00" + record).hexdigest().encode(), record)

    status, output = check(rewrite(bundle, change={"records.txt": edit_line(4, forge)}))
    assert status == 1 and "record_altered" not in output
    assert (
        "BROKEN [checkpoint_root] position 4: positions 4 to 4 do not hash to the root the checkpoint of size 5"
        in output
    )
    assert "BROKEN [range_proof]" in output


def test_a_bundle_with_a_record_removed_names_the_missing_position(bundle):
    status, output = check(rewrite(bundle, change={"records.txt": edit_line(3, lambda line: b"")}))
    assert status == 1 and "BROKEN [position_missing] position 3: missing from the bundle" in output
    assert "BROKEN [count] bundle: the manifest counts 6 records, the bundle holds 5" in output


def test_a_bundle_with_a_record_inserted_names_it(bundle):
    def insert_copy(data):
        rows = lines(data)
        return b"".join([*rows[:3], rows[2], *rows[3:]])

    status, output = check(rewrite(bundle, change={"records.txt": insert_copy}))
    assert status == 1 and "BROKEN [position_repeated] position 2: appears again on line 4" in output
    appended = rewrite(bundle, change={"records.txt": lambda data: data + lines(data)[0].replace(b"0 ", b"6 ", 1)})
    status, output = check(appended)
    assert status == 1 and "BROKEN [position_inserted] position 6: outside the run 0 to 5" in output


def test_a_bundle_with_two_records_swapped_between_positions_names_both(bundle):
    def swap(data):
        rows = [row.split(b" ", 2) for row in lines(data)]
        rows[1][2], rows[2][2] = rows[2][2], rows[1][2]
        return b"".join(b" ".join(row) for row in rows)

    status, output = check(rewrite(bundle, change={"records.txt": swap}))
    assert status == 1
    assert "BROKEN [record_moved] position 1: holds the record of position 2 (reordered)" in output
    assert "BROKEN [record_moved] position 2: holds the record of position 1 (reordered)" in output


def test_a_bundle_with_its_lines_reordered_names_the_position_out_of_order(bundle):
    def reorder(data):
        rows = lines(data)
        return b"".join([*rows[:2], rows[3], rows[2], *rows[4:]])

    status, output = check(rewrite(bundle, change={"records.txt": reorder}))
    assert status == 1 and "BROKEN [position_reordered] position 2: comes after position 3" in output


def test_files_that_do_not_match_the_manifest_are_named(bundle):
    tampered = rewrite(
        bundle,
        change={"README.txt": lambda data: data + b"trust us\n"},
        drop=("keys.json",),
        add={"extra.txt": b"added"},
    )
    status, output = check(tampered)
    assert status == 1
    assert "BROKEN [file_altered] bundle: README.txt does not match" in output
    assert "BROKEN [file_unexpected] bundle: extra.txt is in the bundle but not in the manifest" in output
    assert "BROKEN [file_missing] bundle: keys.json is not in the bundle" in output


def test_an_edited_version_and_a_missing_one_are_named(bundle):
    with zipfile.ZipFile(bundle) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("versions/")]
    status, output = check(rewrite(bundle, change={name: lambda data: data.replace(b"Cookie", b"Biscuit")}))
    assert status == 1 and f"BROKEN [version_altered] bundle: {name} does not hash to its name" in output
    status, output = check(rewrite(bundle, drop=(name,)))
    assert status == 1 and "BROKEN [version_missing] position 0: the record's version" in output


def test_altered_personal_data_are_named_by_position(bundle):
    tampered = rewrite(
        bundle, change={"personal.txt": edit_line(5, lambda line: line.replace(b"203.0.113.0", b"198.51.100.0"))}
    )
    status, output = check(tampered)
    assert status == 1 and "BROKEN [personal_altered] position 5: the personal data do not match the digest" in output


def test_missing_or_unreadable_personal_data_are_named(bundle):
    status, output = check(rewrite(bundle, drop=("personal.txt",)))
    assert status == 1 and "BROKEN [file_missing] bundle: personal.txt is not in the bundle" in output
    status, output = check(rewrite(bundle, change={"personal.txt": edit_line(4, lambda line: b"4 zz " + line[5:])}))
    assert status == 1 and "BROKEN [line_unreadable] position 4: personal.txt line 5: the salt is not hex" in output


def test_an_altered_or_foreign_checkpoint_is_named(bundle, client, tmp_path):
    status, output = check(rewrite(bundle, change={"checkpoints/6.txt": lambda d: d.replace(b"\n6\n", b"\n7\n")}))
    assert status == 1 and "BROKEN [checkpoint_signature] bundle: checkpoints/6.txt: no valid signature" in output

    def resign(data):
        return sign_checkpoint(parse_checkpoint(data.decode()).body, SigningKey.generate("consent.test")).encode()

    status, output = check(
        rewrite(bundle, change={"checkpoints/3.txt": resign}), "--keys", published_keys(client, tmp_path)
    )
    assert status == 1 and "BROKEN [checkpoint_signature] bundle: checkpoints/3.txt" in output
    other = tmp_path / "other-keys.json"
    key = SigningKey.generate("consent.test").public
    other.write_text(json.dumps({"keys": [{**key.jwk(), "note_key": key.note_verifier}]}))
    status, output = check(bundle, "--keys", other)
    assert status == 1 and "no valid signature by a published key" in output


def test_an_edited_range_proof_is_named(app, client, quadient, tmp_path):
    for _ in range(3):
        decide(client)
    run(app, "checkpoint", "quadient")
    decide(client)
    run(app, "checkpoint", "quadient")
    path = tmp_path / "first-three.zip"
    assert run(app, "audit-bundle", "quadient", "-o", path).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        proof = json.loads(archive.read("range-proof.json"))
    proof["right"] = ["00" * 32]
    status, output = check(rewrite(path, change={"range-proof.json": lambda _: json.dumps(proof).encode()}))
    assert status == 1 and "BROKEN [range_proof] position 0: positions 0 to 3 and the range proof do not hash" in output


# --- tampering with the log before it was bundled ----------------------------------------------------------------


def test_a_record_altered_in_the_database_is_named_in_its_bundle(app, logged, tmp_path):
    with behind_the_services_back(app) as c:
        c.execute(
            sa.text("UPDATE consent_records SET document = replace(document, :off, :on) WHERE record_id = :r"),
            {"off": '"marketing":false', "on": '"marketing":true', "r": logged[1]["record_id"]},
        )
    path = tmp_path / "bundle.zip"
    assert run(app, "audit-bundle", "quadient", "-o", path).exit_code == 0
    status, output = check(path)
    assert status == 1 and "BROKEN [record_altered] position 1" in output
    assert "file_altered" not in output  # the bundle is what the service holds; the log is what is broken


def test_a_record_deleted_from_the_database_is_named_in_its_bundle(app, logged, tmp_path):
    with behind_the_services_back(app) as c:
        c.execute(sa.text("DELETE FROM consent_records WHERE record_id = :r"), {"r": logged[4]["record_id"]})
    path = tmp_path / "bundle.zip"
    assert run(app, "audit-bundle", "quadient", "-o", path).exit_code == 0
    status, output = check(path)
    assert status == 1 and "BROKEN [record_missing] position 4: the service has no record there" in output


def test_the_verifier_refuses_what_is_not_a_bundle(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert check(junk)[0] == 1
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("hello.txt", "hi")
    status, output = check(empty)
    assert status == 1 and "manifest.json is missing or unreadable" in output
