"""tools/verify_consent.py, the auditor's standalone checker, run as its own process on the service's outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from consent.extensions import db
from consent.models import Record

from .conftest import ROOT
from .test_decisions import decide

SCRIPT = ROOT / "tools" / "verify_consent.py"


def check(*args):
    result = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def evidence(app, client, quadient, tmp_path):
    answer = decide(client).json
    app.test_cli_runner().invoke(args=["cmp", "checkpoint"])
    files = {
        "keys": client.get("/.well-known/consent-keys.json").json,
        "proof": client.get(f"/api/v1/records/{answer['record_id']}/proof").json,
    }
    with app.app_context():
        row = db.session.scalar(select(Record))
        files["record"] = json.loads(row.document)
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content, default=str))
    (tmp_path / "receipt.jws").write_text(answer["receipt"])
    (tmp_path / "checkpoint.txt").write_text(files["proof"]["checkpoint"]["note"])
    return tmp_path


def test_a_genuine_receipt_checks_out(evidence):
    status, output = check("receipt", evidence / "receipt.jws", "--keys", evidence / "keys.json")
    assert status == 0 and "receipt OK" in output and '"analytics": false' in output


def test_a_receipt_with_changed_choices_is_refused(evidence):
    head, claims, signature = (evidence / "receipt.jws").read_text().split(".")
    import base64

    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["choices"]["marketing"] = True
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    (evidence / "forged.jws").write_text(f"{head}.{forged}.{signature}")
    status, output = check("receipt", evidence / "forged.jws", "--keys", evidence / "keys.json")
    assert status == 1 and "altered or forged" in output


def test_a_proof_ties_the_record_and_its_receipt_to_a_signed_checkpoint(evidence):
    status, output = check(
        "proof",
        evidence / "proof.json",
        "--keys",
        evidence / "keys.json",
        "--record",
        evidence / "record.json",
        "--receipt",
        evidence / "receipt.jws",
    )
    assert status == 0, output
    assert "record OK" in output and "proof OK: record" in output and "position 0 of consent.test/quadient" in output


def test_an_edited_record_does_not_match_its_proof(evidence):
    record = json.loads((evidence / "record.json").read_text())
    record["choices"]["marketing"] = True
    (evidence / "record.json").write_text(json.dumps(record))
    status, output = check(
        "proof", evidence / "proof.json", "--keys", evidence / "keys.json", "--record", evidence / "record.json"
    )
    assert status == 1 and "does not hash to the leaf" in output


def test_a_checkpoint_signed_by_another_key_is_refused(evidence):
    from consent.core.signing import SigningKey, parse_checkpoint, sign_checkpoint

    note = (evidence / "checkpoint.txt").read_text()
    (evidence / "checkpoint.txt").write_text(
        sign_checkpoint(parse_checkpoint(note).body, SigningKey.generate("consent.test"))
    )
    assert check("checkpoint", evidence / "checkpoint.txt", "--keys", evidence / "keys.json")[0] == 1
    (evidence / "checkpoint.txt").write_text(note)
    assert check("checkpoint", evidence / "checkpoint.txt", "--keys", evidence / "keys.json")[0] == 0
