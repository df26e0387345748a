"""Owners keep their configuration in files: load is idempotent, export writes what load reads."""

from __future__ import annotations

import yaml
from sqlalchemy import select

from consent.extensions import db
from consent.models import PublishedVersion

from .conftest import ROOT

QUADIENT = ROOT / "examples" / "quadient.yaml"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["cmp", *map(str, args)])


def test_loading_publishes_and_loading_again_changes_nothing(app):
    first = run(app, "load", QUADIENT)
    assert first.exit_code == 0 and "quadient: published: version 1" in first.output
    again = run(app, "load", QUADIENT)
    assert "quadient: unchanged: version 1" in again.output


def test_export_writes_what_load_reads(app, tmp_path):
    run(app, "load", QUADIENT)
    exported = tmp_path / "quadient.yaml"
    assert run(app, "export", "quadient", "-o", exported).exit_code == 0
    assert "unchanged: version 1" in run(app, "load", exported).output
    original = yaml.safe_load(QUADIENT.read_text())
    assert yaml.safe_load(exported.read_text())["categories"] == original["categories"]


def test_a_published_version_can_be_exported(app, tmp_path):
    run(app, "load", QUADIENT)
    with app.app_context():
        first = db.session.scalar(select(PublishedVersion.hash).where(PublishedVersion.number == 1))
    edited = tmp_path / "edited.yaml"
    edited.write_text(QUADIENT.read_text().replace("title: Your privacy choices", "title: Cookies"))
    assert "published: version 2" in run(app, "load", edited).output
    assert "title: Cookies" in run(app, "export", "quadient").output
    assert "title: Your privacy choices" in run(app, "export", "quadient", "--version", first).output
    assert run(app, "export", "quadient", "--version", "f" * 64).exit_code == 1


def test_an_invalid_file_names_every_bad_field(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        QUADIENT.read_text()
        .replace("model: opt_out", "model: opt_maybe", 1)
        .replace("category: analytics", "category: statistics")
    )
    result = run(app, "load", bad)
    assert result.exit_code == 1
    assert "rules.1.model" in result.output and "Must be one of" in result.output


def test_a_file_that_is_not_yaml_is_reported(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: [unclosed")
    result = run(app, "load", bad)
    assert result.exit_code == 1 and "bad.yaml" in result.output


def test_check_lists_compliance_warnings(app, tmp_path):
    noncompliant = tmp_path / "q.yaml"
    noncompliant.write_text(
        QUADIENT.read_text().replace(
            "buttons: [accept_all, reject_all, preferences]", "buttons: [accept_all, preferences]"
        )
    )
    result = run(app, "check", QUADIENT, noncompliant)
    assert result.exit_code == 0
    assert "quadient.yaml: 0 compliance warnings" in result.output
    assert "warning [reject_missing] rule 'opt-in-regions', EEA (GDPR and ePrivacy Directive)" in result.output
    assert run(app, "check", "--strict", noncompliant).exit_code == 2


def test_keys_are_printed_once(app):
    run(app, "load", QUADIENT)
    result = run(app, "create-key", "--site", "quadient", "--role", "auditor")
    assert result.exit_code == 0 and result.output.startswith("cmp_")
    assert run(app, "create-key", "--site", "nobody").exit_code == 1
    assert run(app, "create-key", "--role", "owner").exit_code == 1  # an owner key needs a site


def test_the_operator_lists_and_revokes_keys(app):
    run(app, "load", QUADIENT)
    admin = run(app, "create-key", "--role", "admin", "--name", "ops").output.strip()
    run(app, "create-key", "--site", "quadient", "--name", "web team")
    listing = run(app, "list-keys").output
    assert admin[:12] in listing and "web team" in listing and admin not in listing
    assert "revoked" in run(app, "revoke-key", admin[:12]).output
    assert "revoked" in run(app, "list-keys").output
    assert app.test_client().get("/api/v1/sites", headers={"Authorization": f"Bearer {admin}"}).status_code == 401
    assert run(app, "revoke-key", "cmp_").exit_code == 1  # ambiguous


def test_a_domain_of_another_site_is_refused_by_load(app, tmp_path):
    run(app, "load", QUADIENT)
    copy = tmp_path / "copy.yaml"
    copy.write_text(QUADIENT.read_text().replace("key: quadient", "key: quadient-copy"))
    result = run(app, "load", copy)
    assert result.exit_code == 1 and "already used by site 'quadient'" in result.output
