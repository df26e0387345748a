"""The Merkle tree against RFC 6962's recursive definitions, for every size and index up to 70."""

import hashlib

import pytest

from consent.core import merkle

LEAVES = [merkle.leaf_hash(f"record {i}".encode()) for i in range(70)]


def mth(leaves):  # RFC 6962 section 2.1, as written
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):  # RFC 6962 section 2.1.1
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m, leaves, complete=True):  # RFC 6962 section 2.1.2, SUBPROOF
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*proof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*proof(m - k, leaves[k:], False), mth(leaves[:k])]


def test_roots_match_the_rfc_for_every_size():
    tree = merkle.Tree(LEAVES)
    for n in range(len(LEAVES) + 1):
        assert merkle.root(LEAVES[:n]) == mth(LEAVES[:n]) == tree.root(n)


def test_inclusion_proofs_match_the_rfc_and_verify():
    tree = merkle.Tree(LEAVES)
    for n in range(1, 40):
        root = mth(LEAVES[:n])
        for m in range(n):
            audit = tree.inclusion_proof(m, n)
            assert audit == path(m, LEAVES[:n])
            assert merkle.verify_inclusion(LEAVES[m], m, n, audit, root)


def test_consistency_proofs_match_the_rfc_and_verify():
    tree = merkle.Tree(LEAVES)
    for n in range(1, 40):
        for m in range(1, n + 1):
            consistency = tree.consistency_proof(m, n)
            assert consistency == (proof(m, LEAVES[:n]) if m < n else [])
            assert merkle.verify_consistency(m, n, mth(LEAVES[:m]), mth(LEAVES[:n]), consistency)


def test_a_changed_leaf_or_position_fails_inclusion():
    tree = merkle.Tree(LEAVES[:13])
    root = tree.root()
    audit = tree.inclusion_proof(5)
    assert not merkle.verify_inclusion(LEAVES[6], 5, 13, audit, root)
    assert not merkle.verify_inclusion(LEAVES[5], 4, 13, audit, root)
    assert not merkle.verify_inclusion(LEAVES[5], 5, 14, audit, merkle.root(LEAVES[:14]))  # size and root go together
    assert not merkle.verify_inclusion(LEAVES[5], 5, 13, audit[:-1], root)
    assert not merkle.verify_inclusion(LEAVES[5], 13, 13, audit, root)


def test_a_rewritten_history_fails_consistency():
    rewritten = list(LEAVES[:20])
    rewritten[3] = merkle.leaf_hash(b"edited")
    tree = merkle.Tree(rewritten)
    consistency = tree.consistency_proof(8, 20)
    assert not merkle.verify_consistency(8, 20, mth(LEAVES[:8]), tree.root(), consistency)


def test_leaves_and_nodes_cannot_be_confused():
    assert merkle.leaf_hash(b"a") != hashlib.sha256(b"a").digest()
    assert merkle.node_hash(LEAVES[0], LEAVES[1]) != merkle.leaf_hash(LEAVES[0] + LEAVES[1])


@pytest.mark.parametrize("old, new", [(0, 5), (6, 5), (3, 99)])
def test_impossible_consistency_proofs_are_refused(old, new):
    with pytest.raises(IndexError):
        merkle.Tree(LEAVES[:10]).consistency_proof(old, new)
