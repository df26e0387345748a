"""The verifier finds every kind of tampering, at its position (in memory; the database tests are elsewhere)."""

import json
from datetime import UTC, datetime

import pytest

from consent.core import merkle, signing
from consent.core.records import personal_digest
from consent.core.verify import ContentCheck, RangeTree, Scope, StoredPosition, TreeCheck, report, verify

KEY = signing.SigningKey.generate("consent.example.com")
NOW = datetime(2026, 11, 22, tzinfo=UTC)
SALT = "00" * 16


def time_of(i: int) -> str:
    return f"2026-11-{10 + i:02d}T09:00:00.000000Z"


def personal(i: int) -> str:
    return f'{{"ip":"203.0.113.{i}"}}'


def log(n=10):
    records = [
        f'{{"consent":"c{i % 3}","personal":"{personal_digest(SALT, personal(i).encode())}","record":"r{i}",'
        f'"site":"site","time":"{time_of(i)}"}}'
        for i in range(n)
    ]
    return records, [merkle.leaf_hash(r.encode()) for r in records]


def checkpoint(leaves, size, key=KEY):
    body = signing.checkpoint_body("consent.example.com/site", size, merkle.root(leaves[:size]), NOW)
    return signing.parse_checkpoint(signing.sign_checkpoint(body, key))


def positions(records, leaves, seqs=None):
    seqs = range(len(records)) if seqs is None else seqs

    def stored(seq, record, leaf):
        if record is None:
            return StoredPosition(seq, leaf.hex(), time_of(seq), None)
        fields = json.loads(record)
        return StoredPosition(seq, leaf.hex(), fields["time"], record, SALT, personal(seq), fields["consent"])

    return [stored(seq, record, leaf) for seq, record, leaf in zip(seqs, records, leaves, strict=True)]


def kinds(found):
    return [(b.kind, b.position) for b in found.breaks]


@pytest.fixture
def intact():
    records, leaves = log()
    return records, leaves, [checkpoint(leaves, 4), checkpoint(leaves, 10)]


def check(records, leaves, checkpoints, scope=None, seqs=None):
    return verify("site", positions(records, leaves, seqs), checkpoints, [KEY.public], scope)


def test_an_intact_log_verifies(intact):
    found = check(*intact)
    assert found.ok and found.contents.positions == 10 and found.contents.records_checked == 10
    assert found.tree.covered == 10 and found.contents.first == (time_of(0), "r0")
    assert found.contents.last == (time_of(9), "r9")


def test_an_edited_record_is_found_at_its_position(intact):
    records, leaves, checkpoints = intact
    records[6] = records[6].replace('"r6"', '"r6","choices":{"ads":true}')
    assert kinds(check(records, leaves, checkpoints)) == [("record_altered", 6)]


def test_an_edited_record_with_a_recomputed_leaf_breaks_the_checkpoint(intact):
    records, leaves, checkpoints = intact
    records[2] = records[2].replace('"r2"', '"r2","choices":{"ads":true}')
    leaves[2] = merkle.leaf_hash(records[2].encode())
    assert kinds(check(records, leaves, checkpoints)) == [("checkpoint_root", 0), ("checkpoint_root", 0)]


def test_a_deleted_record_is_found(intact):
    records, leaves, checkpoints = intact
    records[3] = None
    assert kinds(check(records, leaves, checkpoints)) == [("record_missing", 3)]


def test_a_purged_record_still_verifies_and_a_later_one_does_not(intact):
    records, leaves, checkpoints = intact
    records[0] = records[1] = records[5] = None
    found = check(records, leaves, checkpoints, Scope(purged_before=time_of(3)))
    assert kinds(found) == [("record_missing", 5)]  # younger than the purge's cutoff: deleted, not purged
    assert found.contents.purged == 2 and found.contents.records_checked == 7


def test_edited_personal_data_are_found(intact):
    records, leaves, checkpoints = intact
    found = verify(
        "site",
        [
            p._replace(personal=p.personal.replace("203.0.113.", "198.51.100.")) if p.seq == 4 else p
            for p in positions(records, leaves)
        ],
        checkpoints,
        [KEY.public],
    )
    assert kinds(found) == [("personal_altered", 4)]


def test_erased_personal_data_are_not_a_break(intact):
    records, leaves, checkpoints = intact
    assert verify("site", [p._replace(personal=None) for p in positions(records, leaves)], checkpoints, [KEY.public]).ok


def test_columns_that_disagree_with_the_record_are_found(intact):
    records, leaves, checkpoints = intact
    stored = positions(records, leaves)
    stored[7] = stored[7]._replace(indexed=False)  # the database found the row's own columns changed
    stored[8] = stored[8]._replace(consent_id="c0")  # filed under another visitor
    stored[9] = stored[9]._replace(time=time_of(1))  # backdated in the log's position
    found = verify("site", stored, checkpoints, [KEY.public])
    assert kinds(found) == [("index_altered", 7), ("index_altered", 8), ("index_altered", 9)]
    assert not verify("other-site", positions(records, leaves), checkpoints, [KEY.public]).ok


def test_a_position_removed_from_the_log_is_found(intact):
    records, leaves, checkpoints = intact
    del records[5], leaves[5]
    found = kinds(check(records, leaves, checkpoints, seqs=[0, 1, 2, 3, 4, 6, 7, 8, 9]))
    assert found == [("missing_position", 5), ("log_truncated", 9)]  # 9 leaves left: the size-10 root is gone


def test_an_inserted_record_breaks_the_checkpoint_after_it(intact):
    records, leaves, checkpoints = intact
    records.insert(7, f'{{"consent":"c9","record":"inserted","site":"site","time":"{time_of(7)}"}}')
    leaves.insert(7, merkle.leaf_hash(records[7].encode()))
    stored = [p._replace(personal=None) for p in positions(records, leaves)]  # the inserted one has none
    found = kinds(verify("site", stored, checkpoints, [KEY.public]))
    assert found == [("checkpoint_root", 4)]  # positions 4 to 9 no longer hash to the size-10 root


def test_two_swapped_records_are_found(intact):
    records, leaves, checkpoints = intact
    records[1], records[8] = records[8], records[1]

    def found():
        return kinds(
            verify("site", [p._replace(personal=None) for p in positions(records, leaves)], checkpoints, [KEY.public])
        )

    assert found() == [("record_altered", 1), ("record_altered", 8)]
    leaves[1], leaves[8] = leaves[8], leaves[1]  # swap the log's hashes too: the roots break
    assert found() == [("checkpoint_root", 0), ("checkpoint_root", 0)]


def test_records_removed_from_the_end_are_found(intact):
    records, leaves, checkpoints = intact
    assert kinds(check(records[:8], leaves[:8], checkpoints)) == [("log_truncated", 8)]


def test_an_altered_checkpoint_is_found(intact):
    records, leaves, _ = intact
    good = checkpoint(leaves, 10)
    tampered = signing.parse_checkpoint(signing.sign_checkpoint(good.body, KEY).replace("\n10\n", "\n9\n"))
    assert ("checkpoint_signature", None) in kinds(check(records, leaves, [tampered]))


def test_a_checkpoint_signed_with_another_key_is_found(intact):
    records, leaves, _ = intact
    other = signing.SigningKey.generate("consent.example.com")
    assert kinds(check(records, leaves, [checkpoint(leaves, 10, other)])) == [("checkpoint_signature", None)]


def test_records_after_the_latest_checkpoint_are_not_yet_covered():
    records, leaves = log(12)
    found = check(records, leaves, [checkpoint(leaves, 10)])
    assert found.ok and found.tree.covered == 10 and found.contents.positions == 12


def test_a_time_range_rehashes_only_its_records_and_still_checks_the_whole_tree(intact):
    records, leaves, checkpoints = intact
    records[1] = records[1].replace('"r1"', '"r1","edited":true')  # outside the range: not re-hashed
    found = check(records, leaves, checkpoints, Scope(since=time_of(4), until=time_of(8)))
    assert found.ok and found.contents.records_checked == 4 and found.tree.covered == 10
    leaves[1] = merkle.leaf_hash(records[1].encode())
    assert not check(records, leaves, checkpoints, Scope(since=time_of(4), until=time_of(8))).ok


def test_ranges_checked_apart_and_merged_find_what_one_pass_finds(intact):
    records, leaves, checkpoints = intact
    records[6] = None
    stored = positions(records, leaves)
    del stored[2]  # a position removed at the edge of a range
    whole = kinds(verify("site", stored, checkpoints, [KEY.public]))
    assert ("missing_position", 2) in whole and ("record_missing", 6) in whole
    first, second = ContentCheck(0, "site").run(stored[:2]), ContentCheck(2, "site").run(stored[2:])
    first.merge(second)
    tree = TreeCheck(checkpoints, [KEY.public])
    tree.add(first.leaves)
    assert kinds(report(first, tree.finish())) == whole


def test_ranges_hashed_apart_join_into_the_same_roots():
    _records, leaves = log(37)
    checkpoints = [checkpoint(leaves, size) for size in (5, 8, 16, 17, 31, 37)]
    tree = TreeCheck(checkpoints, [KEY.public])
    blob = b"".join(leaves)
    for start in range(0, 37, 8):  # ranges of 8 leaves, the last one short
        part = RangeTree.build(start, blob[start * 32 : (start + 8) * 32], tree.sizes)
        assert tree.can_add(part)
        tree.add_range(part)
    assert tree.finish().covered == 37 and not tree.breaks
    unaligned = RangeTree.build(3, blob[3 * 32 : 11 * 32], [])
    assert not TreeCheck([], []).can_add(unaligned)
