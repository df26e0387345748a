"""The consent log: checkpoints and proofs, verification that catches every change made behind the service's
back, retention purges, erasure, and many writers at once."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from consent.core import merkle
from consent.core.signing import SigningKey, parse_checkpoint, sign_checkpoint, verify_checkpoint
from consent.extensions import db

from .conftest import ROOT, load_examples, make_app
from .test_decisions import decide, published_keys

EVERYTHING = {"necessary": True, "analytics": True, "marketing": True}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["cmp", *map(str, args)])


@pytest.fixture
def logged(app, client, quadient):
    """Five decisions of one visitor, sequenced and checkpointed."""
    first = decide(client).json
    ids = [first["record_id"]]
    for method, choices in [("accept_all", EVERYTHING)] * 4:
        answer = decide(
            client,
            consent_id=first["consent_id"],
            secret=first["secret"],
            method=method,
            choices=choices,
            control=method,
        ).json
        ids.append(answer["record_id"])
    assert "checkpoint of size 5" in run(app, "checkpoint", "quadient").output
    return ids


@contextlib.contextmanager
def behind_the_services_back(app):
    """A connection with the append-only triggers out of the way, as an attacker with database access has."""
    with app.app_context(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            yield connection
        else:
            triggers = connection.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
            yield connection
            for _, sql in triggers:
                connection.execute(sa.text(sql))
        db.engine.dispose()


def verify(app):
    result = run(app, "verify", "quadient")
    return result.exit_code, result.output


# --- checkpoints and proofs ------------------------------------------------------------------------------------


def test_a_record_gets_an_inclusion_proof_once_a_checkpoint_covers_it(app, client, quadient):
    answer = decide(client).json
    assert client.get(f"/api/v1/records/{answer['record_id']}/proof").status_code == 404  # still queued
    run(app, "checkpoint")
    proof = client.get(f"/api/v1/records/{answer['record_id']}/proof").json
    assert proof["covered"] is True and proof["leaf_hash"] == answer["record_hash"]
    checkpoint = parse_checkpoint(proof["checkpoint"]["note"])
    assert verify_checkpoint(checkpoint, published_keys(client)) is not None
    assert checkpoint.origin == "consent.test/quadient"
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["position"],
        checkpoint.size,
        [bytes.fromhex(p) for p in proof["proof"]],
        checkpoint.root,
    )


def test_a_later_checkpoint_provably_extends_an_earlier_one(app, client, logged):
    before = client.get("/api/v1/logs/quadient/checkpoint").json
    decide(client)
    run(app, "checkpoint")
    after = client.get("/api/v1/logs/quadient/checkpoint").json
    assert (before["size"], after["size"]) == (5, 6)
    proof = client.get("/api/v1/logs/quadient/consistency?from=5&to=6").json
    old_root = parse_checkpoint(before["note"]).root
    new_root = parse_checkpoint(after["note"]).root
    assert merkle.verify_consistency(5, 6, old_root, new_root, [bytes.fromhex(p) for p in proof["proof"]])
    assert client.get("/api/v1/logs/quadient/consistency?from=7&to=6").status_code == 422


def test_nothing_new_signs_no_new_checkpoint(app, logged):
    assert "nothing new" in run(app, "checkpoint", "quadient").output
    assert "checkpoint of size 5" in run(app, "checkpoint", "quadient", "--force").output


# --- verification: every change behind the service's back is found -----------------------------------------


def test_an_untouched_log_verifies(app, logged):
    status, output = verify(app)
    assert status == 0 and "5 log positions, 5 records re-hashed" in output and "OK" in output


def test_the_database_refuses_to_change_or_delete_a_record(app, logged):
    for statement in (
        "UPDATE consent_records SET document = '{}'",
        "DELETE FROM consent_records",
        "UPDATE record_personal_data SET data = '{}'",
        "UPDATE log_entries SET seq = seq + 10",
        "DELETE FROM checkpoints",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), app.app_context(), db.engine.begin() as c:
            c.execute(sa.text(statement))


def test_an_altered_choice_is_found_at_its_position(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(
            sa.text("UPDATE consent_records SET document = replace(document, :off, :on) WHERE record_id = :r"),
            {"off": '"analytics":false', "on": '"analytics":true', "r": logged[0]},
        )
    status, output = verify(app)
    assert status == 1 and "BROKEN [record_altered] position 0" in output


def test_a_deleted_record_is_found(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(sa.text("DELETE FROM consent_records WHERE record_id = :r"), {"r": logged[2]})
    status, output = verify(app)
    assert status == 1 and "BROKEN [record_missing] position 2" in output


def test_an_inserted_record_is_found(app, logged):
    with behind_the_services_back(app) as c:
        columns = [
            col for col in sa.inspect(c).get_columns("consent_records") if col["name"] not in ("id", "record_id")
        ]
        names = ", ".join(col["name"] for col in columns)
        c.execute(
            sa.text(
                f"INSERT INTO consent_records (id, record_id, {names}) "
                f"SELECT id + 1, 'forged-0000-0000-0000-000000000000', {names} FROM consent_records "
                "WHERE record_id = :r"
            ),
            {"r": logged[0]},
        )
    status, output = verify(app)
    assert status == 1 and "BROKEN [record_inserted]" in output and "forged-0000" in output


def test_two_swapped_records_are_found(app, logged):
    """Positions 0 and 1 made to hold each other's record."""
    with behind_the_services_back(app) as c:
        (_, first, first_pk), (_, second, second_pk) = c.execute(
            sa.text("SELECT seq, record_id, record_pk FROM log_entries WHERE seq < 2 ORDER BY seq")
        ).all()
        update = sa.text("UPDATE log_entries SET record_id = :r, record_pk = :p WHERE seq = :s")
        c.execute(update, {"r": "t" * 36, "p": second_pk, "s": 0})  # record IDs are unique: one aside first
        c.execute(update, {"r": first, "p": first_pk, "s": 1})
        c.execute(update, {"r": second, "p": second_pk, "s": 0})
    _status, output = verify(app)
    assert "BROKEN [record_altered] position 0" in output and "BROKEN [record_altered] position 1" in output


def test_two_swapped_positions_break_the_checkpoint(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(sa.text("UPDATE log_entries SET seq = -1 WHERE seq = 3"))
        c.execute(sa.text("UPDATE log_entries SET seq = 3 WHERE seq = 4"))
        c.execute(sa.text("UPDATE log_entries SET seq = 4 WHERE seq = -1"))
    status, output = verify(app)
    assert status == 1 and "BROKEN [checkpoint_root]" in output and "positions 0 to 4" in output


def test_an_altered_checkpoint_is_found(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(sa.text("UPDATE checkpoints SET note = replace(note, '\n5\n', '\n4\n')"))
    status, output = verify(app)
    assert status == 1 and "BROKEN [checkpoint_signature]" in output


def test_a_checkpoint_signed_with_another_key_is_found(app, logged):
    with app.app_context():
        note = db.session.scalar(sa.text("SELECT note FROM checkpoints"))
    body = parse_checkpoint(note).body
    forged = sign_checkpoint(body, SigningKey.generate("consent.test"))
    with behind_the_services_back(app) as c:
        c.execute(sa.text("UPDATE checkpoints SET note = :n"), {"n": forged})
    status, output = verify(app)
    assert status == 1 and "BROKEN [checkpoint_signature]" in output


def test_altered_personal_data_is_found(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(sa.text("UPDATE record_personal_data SET data = replace(data, '203.0.113.0/24', '198.51.100.0/24')"))
    status, output = verify(app)
    assert status == 1 and output.count("BROKEN [personal_altered]") == 5


def test_a_record_moved_to_another_visitor_is_found(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(
            sa.text("UPDATE consent_records SET consent_id = 'AAAAAAAAAAAAAAAAAAAAAA' WHERE record_id = :r"),
            {"r": logged[3]},
        )
    status, output = verify(app)
    assert status == 1 and "BROKEN [index_altered] position 3" in output


def test_a_backdated_record_is_found(app, logged):
    with behind_the_services_back(app) as c:
        c.execute(
            sa.text("UPDATE consent_records SET time = :t WHERE record_id = :r"),
            {"t": datetime(2020, 1, 1, tzinfo=UTC), "r": logged[1]},
        )
    status, output = verify(app)
    assert status == 1 and "BROKEN [index_altered] position 1" in output


def test_records_awaiting_their_position_are_reported(app, client, logged):
    decide(client)
    status, output = verify(app)
    assert status == 0 and "1 recorded decision(s) awaiting their log position" in output


# --- retention and erasure -------------------------------------------------------------------------------------


def test_a_retention_purge_removes_old_records_and_the_rest_still_verifies(app, client, quadient, monkeypatch):
    from consent import recording

    old = datetime.now(UTC) - timedelta(days=6 * 365)
    monkeypatch.setattr(recording, "utcnow", lambda: old)
    decide(client), decide(client)
    monkeypatch.undo()
    recent = decide(client).json
    result = run(app, "purge", "quadient", "--yes")  # quadient keeps records 1825 days
    assert result.exit_code == 0 and "purged 2 records" in result.output
    status, output = verify(app)
    assert status == 0 and "3 log positions, 1 records re-hashed, 2 purged" in output
    assert "purge on" in output and "2 records older than" in output
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), app.app_context(), db.engine.begin() as c:
        c.execute(sa.text("DELETE FROM consent_records WHERE record_id = :r"), {"r": recent["record_id"]})


def test_erasing_a_visitors_personal_data_keeps_their_records_verifiable(app, client, logged):
    with app.app_context():
        consent_id = db.session.scalar(sa.text("SELECT consent_id FROM consent_records LIMIT 1"))
    result = run(app, "erase", "quadient", consent_id)
    assert "erased the personal data of 5 records" in result.output
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM record_personal_data")) == 0
        assert db.session.scalar(sa.text("SELECT count(*) FROM erasures")) == 1
    status, output = verify(app)
    assert status == 0 and "1 erasure(s)" in output and "5 records re-hashed" in output


# --- many writers --------------------------------------------------------------------------------------------


def _write_decisions(database_url: str, count: int, queue) -> None:
    """One process, as one gunicorn worker: its own app and connections, sequencing as it goes."""
    app = make_app(database_url, rate_limit="100000 per minute")
    client = app.test_client()
    written = 0
    for i in range(count):
        if decide(client).status_code == 201:
            written += 1
        if i % 10 == 0:
            run(app, "checkpoint")  # sequencers of several processes race with each other and the writers
    queue.put(written)


@pytest.mark.postgres_only
def test_writers_in_several_processes_lose_nothing_and_the_log_verifies(app, database_url, quadient):
    processes, per_process = 4, 60
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_write_decisions, args=(database_url, per_process, queue)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    assert sum(queue.get() for _ in workers) == processes * per_process
    run(app, "checkpoint")
    status, output = verify(app)
    assert status == 0, output
    assert f"{processes * per_process} log positions, {processes * per_process} records re-hashed" in output


def test_the_sequencer_keeps_positions_contiguous_across_batches(app, client, quadient, monkeypatch):
    from consent import logbook

    monkeypatch.setattr(logbook, "BATCH", 3)
    for _ in range(7):
        decide(client)
    output = run(app, "checkpoint", "quadient").output
    assert "checkpoint of size 7" in output
    assert verify(app)[0] == 0


def test_each_process_sequences_and_checkpoints_in_the_background(database_url):
    app = make_app(database_url, checkpoint_seconds=0.2)
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    client = app.test_client()
    try:
        answer = decide(client).json
        for _ in range(50):
            proof = client.get(f"/api/v1/records/{answer['record_id']}/proof")
            if proof.status_code == 200:
                break
            time.sleep(0.1)
    finally:
        app.extensions["cmp.sequencer"].stop()  # it would go on sequencing later tests' records
    assert proof.status_code == 200 and parse_checkpoint(proof.json["checkpoint"]["note"]).size == 1


def test_after_a_key_rotation_old_receipts_and_checkpoints_still_verify(app, client, database_url, tmp_path, logged):
    from consent.core.signing import verify_receipt

    old_receipt = decide(client).json["receipt"]
    run(app, "checkpoint")
    new_key = tmp_path / "rotated.pem"
    new_key.write_bytes(SigningKey.generate("consent.test").pem())
    rotated = make_app(database_url, signing_key=str(new_key))
    rotated_client = rotated.test_client()
    new_receipt = decide(rotated_client).json["receipt"]
    assert "checkpoint of size 7" in run(rotated, "checkpoint", "quadient").output
    keys = published_keys(rotated_client)
    assert len(keys) == 2
    assert verify_receipt(old_receipt, keys)["jti"] != verify_receipt(new_receipt, keys)["jti"]
    result = run(rotated, "verify", "quadient")
    assert result.exit_code == 0 and "3 checkpoints" in result.output, result.output


def test_a_large_log_is_checked_by_parallel_workers_with_the_same_findings(app, client, quadient, monkeypatch):
    from consent import logbook

    monkeypatch.setattr(logbook, "CHUNK", 8)  # ranges of 8 positions, checked by 2 worker processes
    monkeypatch.setattr(logbook, "PARALLEL_FROM", 16)
    for i in range(45):
        decide(client)
        if i in (10, 30):
            run(app, "checkpoint")
    run(app, "checkpoint")
    with behind_the_services_back(app) as c:
        c.execute(
            sa.text(
                "UPDATE consent_records SET document = replace(document, :off, :on) "
                "WHERE id = (SELECT record_pk FROM log_entries WHERE seq = 19)"
            ),
            {"off": '"analytics":false', "on": '"analytics":true'},
        )
    serial = run(app, "verify", "quadient", "--jobs", "1").output
    parallel = run(app, "verify", "quadient", "--jobs", "2").output
    assert parallel == serial
    assert "45 log positions, 45 records re-hashed, 0 purged, 3 checkpoints" in parallel
    assert parallel.count("BROKEN") == 1 and "BROKEN [record_altered] position 19" in parallel
