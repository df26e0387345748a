"""Keys, checkpoints (C2SP signed notes) and receipts (JWS)."""

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.core import merkle, signing

from .test_records import record

NOW = datetime(2026, 11, 22, 9, 15, 2, tzinfo=UTC)


def test_the_key_id_is_the_rfc_7638_thumbprint():
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 key
    raw = signing.b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert signing.PublicKey("any", raw).kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_checkpoint_is_a_signed_note_that_verifies():
    key = signing.SigningKey.generate("consent.example.com")
    root = merkle.root([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    note = signing.sign_checkpoint(signing.checkpoint_body("consent.example.com/quadient", 2, root, NOW), key)
    lines = note.splitlines()
    assert lines[:4] == [
        "consent.example.com/quadient",
        "2",
        base64.b64encode(root).decode(),
        "time 2026-11-22T09:15:02Z",
    ]
    assert lines[4] == "" and lines[5].startswith("\u2014 consent.example.com ")
    checkpoint = signing.parse_checkpoint(note)
    assert (checkpoint.size, checkpoint.root) == (2, root)
    assert signing.verify_checkpoint(checkpoint, [key.public]) == key.public


def test_an_edited_checkpoint_or_another_key_fails():
    key, other = signing.SigningKey.generate("log"), signing.SigningKey.generate("log")
    note = signing.sign_checkpoint(signing.checkpoint_body("log/site", 5, b"\x11" * 32, NOW), key)
    edited = note.replace("\n5\n", "\n6\n")
    assert signing.verify_checkpoint(signing.parse_checkpoint(edited), [key.public]) is None
    assert signing.verify_checkpoint(signing.parse_checkpoint(note), [other.public]) is None


def test_the_note_verifier_key_has_the_signed_note_format():
    key = signing.SigningKey.generate("consent.example.com")
    name, key_id, blob = key.public.note_verifier.split("+", 2)  # base64 may contain "+" too
    assert name == "consent.example.com" and bytes.fromhex(key_id) == key.public.note_id
    assert base64.b64decode(blob) == b"\x01" + key.public.raw


@pytest.mark.parametrize("text", ["no blank line", "origin\nsize\nroot\n\n\u2014 k AAAA\n", "a\nb\n\n"])
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(ValueError):
        signing.parse_checkpoint(text)


def test_a_receipt_names_the_record_and_verifies_with_the_published_key():
    key = signing.SigningKey.generate("consent.example.com")
    r = record()
    token = signing.issue_receipt(r, r.leaf().hex(), key, issuer="https://consent.example.com")
    claims = signing.verify_receipt(token, [key.public])
    assert claims["jti"] == r.record_id and claims["sub"] == r.consent_id
    assert claims["choices"] == r.choices and claims["record_hash"] == r.leaf().hex()


def test_a_forged_receipt_is_refused():
    key, other = signing.SigningKey.generate("a"), signing.SigningKey.generate("a")
    token = signing.issue_receipt(record(), "00", key, issuer="x")
    head, _, sig = token.split(".")
    other_claims = signing.b64url(b'{"choices":{}}')
    forged = f"{head}.{other_claims}.{sig}"
    with pytest.raises(ValueError):
        signing.verify_receipt(forged, [key.public])
    with pytest.raises(ValueError):
        signing.verify_receipt(token, [other.public])


def test_only_ed25519_keys_sign():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError):
        signing.SigningKey.from_pem("x", pem)
    assert signing.SigningKey.from_pem("x", signing.SigningKey("x", Ed25519PrivateKey.generate()).pem())
