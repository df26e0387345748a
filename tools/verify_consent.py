#!/usr/bin/env python3
"""Check consent receipts and log proofs offline, trusting nothing but the published keys.

Needs Python 3.11+ and the `cryptography` package; nothing from the consent service itself. Usage:

    verify_consent.py receipt RECEIPT.jws --keys consent-keys.json
        A receipt's signature, and what it says was recorded.

    verify_consent.py proof PROOF.json --keys consent-keys.json [--record RECORD.json] [--receipt RECEIPT.jws]
        That the checkpoint in PROOF.json (from GET /api/v1/records/<id>/proof) is signed by a published key
        and that the record's hash sits at its position under that checkpoint's root. With --record (the
        record's canonical JSON document, as in docs/auditors.md), that the record hashes to that leaf; with
        --receipt, that the receipt names the same record hash.

    verify_consent.py checkpoint NOTE.txt --keys consent-keys.json
        A checkpoint's signature (C2SP signed note).

consent-keys.json is the service's /.well-known/consent-keys.json. Exit status: 0 when everything checked
out, 1 otherwise. The formats are described in docs/auditors.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Keys:
    """The published keys: by JWK thumbprint (receipts) and by signed-note name and key id (checkpoints)."""

    def __init__(self, jwks: dict):
        self.by_kid: dict[str, bytes] = {}
        self.by_note: dict[tuple[str, bytes], bytes] = {}
        for jwk in jwks["keys"]:
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
                continue
            raw = b64url_decode(jwk["x"])
            members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"))
            thumbprint = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
            if thumbprint != jwk.get("kid"):
                raise ValueError(f"key {jwk.get('kid')!r}: its kid is not its RFC 7638 thumbprint")
            self.by_kid[thumbprint] = raw
            name, key_id, blob = jwk["note_key"].split("+", 2)
            if base64.b64decode(blob) != b"\x01" + raw:
                raise ValueError(f"key {thumbprint}: note_key and x differ")
            self.by_note[(name, bytes.fromhex(key_id))] = raw


def ed25519_ok(raw: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        return True
    except (InvalidSignature, ValueError):
        return False


def check_receipt(token: str, keys: Keys) -> dict:
    """RFC 7515 compact JWS, EdDSA (RFC 8037). Returns the claims; raises ValueError if not genuine."""
    try:
        header_b64, claims_b64, signature_b64 = token.strip().split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
    except ValueError:
        raise ValueError("not a compact JWS") from None
    raw = keys.by_kid.get(header.get("kid"))
    if header.get("alg") != "EdDSA" or raw is None:
        raise ValueError(f"signed with an unknown key ({header.get('kid')!r})")
    if not ed25519_ok(raw, b64url_decode(signature_b64), f"{header_b64}.{claims_b64}".encode()):
        raise ValueError("the signature does not match: the receipt was altered or forged")
    return claims


def check_checkpoint(note: str, keys: Keys) -> tuple[str, int, bytes]:
    """C2SP signed note holding a tlog checkpoint. Returns (origin, size, root)."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise ValueError("no blank line before the signatures")
    body += "\n"
    lines = body.splitlines()
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    for line in signatures.splitlines():
        name, _, blob = line.removeprefix("\u2014 ").rpartition(" ")
        raw_signature = base64.b64decode(blob)
        raw = keys.by_note.get((name, raw_signature[:4]))
        if raw is not None and ed25519_ok(raw, raw_signature[4:], body.encode()):
            return origin, size, root
    raise ValueError("no signature by a published key: the checkpoint was altered or signed with another key")


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_of(canonical: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + canonical).digest()


def included(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, hashed = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            hashed = node(sibling, hashed)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            hashed = node(hashed, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hashed == root


def canonical(document: dict) -> bytes:
    """RFC 8785 for a record document (strings, safe integers, booleans, null, objects with ASCII keys)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["receipt", "proof", "checkpoint"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--keys", type=Path, required=True, help="the service's consent-keys.json")
    parser.add_argument("--record", type=Path, help="with proof: the record's canonical document (JSON)")
    parser.add_argument("--receipt", type=Path, help="with proof: the record's receipt")
    args = parser.parse_args(argv)
    try:
        keys = Keys(json.loads(args.keys.read_text()))
        text = args.file.read_text()
        if args.what == "receipt":
            claims = check_receipt(text, keys)
            print(f"receipt OK: record {claims['jti']} of site {claims['site']}, {claims['time']}")
            print(f"  consent ID {claims['sub']}, method {claims['method']}, version {claims['version'][:16]}...")
            print(f"  choices: {json.dumps(claims['choices'], sort_keys=True)}")
            print(f"  record hash {claims['record_hash']}")
        elif args.what == "checkpoint":
            origin, size, root = check_checkpoint(text, keys)
            print(f"checkpoint OK: {origin}, size {size}, root {root.hex()}")
        else:
            proof = json.loads(text)
            origin, size, root = check_checkpoint(proof["checkpoint"]["note"], keys)
            leaf = bytes.fromhex(proof["leaf_hash"])
            if args.record:
                if leaf_of(canonical(json.loads(args.record.read_text()))) != leaf:
                    raise ValueError("the record does not hash to the leaf in the proof")
                print("record OK: it hashes to the proof's leaf")
            if args.receipt and check_receipt(args.receipt.read_text(), keys)["record_hash"] != proof["leaf_hash"]:
                raise ValueError("the receipt names another record hash")
            if not included(leaf, proof["position"], size, [bytes.fromhex(h) for h in proof["proof"]], root):
                raise ValueError("the record is not in the log under this checkpoint")
            print(
                f"proof OK: record {proof['record_id']} is position {proof['position']} of {origin}, "
                f"under the signed checkpoint of size {size}"
            )
    except (ValueError, KeyError, OSError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
