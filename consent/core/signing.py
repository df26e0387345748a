"""Ed25519 keys, checkpoints as signed notes, and receipts as JSON Web Signatures.

- A key is identified by its RFC 7638 JWK thumbprint (``kid``) and published as a JWK (RFC 8037, ``OKP``/``Ed25519``).
- A checkpoint is a C2SP ``tlog-checkpoint`` in the C2SP ``signed-note`` format, the format of the Go checksum
  database and other transparency logs::

      consent.example.com/quadient          <- origin: the log's name
      1024                                  <- tree size
      n3JNqq8r1...=                         <- base64 Merkle Tree Hash of the first 1024 records
      time 2026-11-22T09:15:02Z             <- extension line: when it was signed
                                            <- blank line
      — consent.example.com Ab3xW...==      <- signature: 4-byte key id, then 64-byte Ed25519 signature

  The signature covers the text above the blank line. The key id is the first 4 bytes of
  ``SHA-256(name || "\\n" || 0x01 || public key)``.
- A receipt is a compact JWS (RFC 7515) signed with ``EdDSA`` (RFC 8037): its claims name the record, the
  visitor's choices, the version shown and the record's hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .records import ConsentRecord, format_time

ED25519_NOTE_TYPE = b"\x01"
RECEIPT_TYPE = "consent-receipt+jwt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class PublicKey:
    name: str  # the signer's name in signed notes, e.g. the service's host name
    raw: bytes  # the 32-byte Ed25519 public key

    @property
    def kid(self) -> str:
        """RFC 7638 thumbprint of the JWK."""
        members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(self.raw)}
        return b64url(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())

    @property
    def note_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n" + ED25519_NOTE_TYPE + self.raw).digest()[:4]

    @property
    def note_verifier(self) -> str:
        """The key as signed-note tools take it: ``name+hex key id+base64(type || key)``."""
        return f"{self.name}+{self.note_id.hex()}+{base64.b64encode(ED25519_NOTE_TYPE + self.raw).decode()}"

    def jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.raw), "kid": self.kid, "alg": "EdDSA", "use": "sig"}

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
            return True
        except (InvalidSignature, ValueError):
            return False


class SigningKey:
    def __init__(self, name: str, private: Ed25519PrivateKey):
        if not name or " " in name or "+" in name:
            raise ValueError(f"{name!r}: a signer name has no spaces and no '+'")
        self.name = name
        self._private = private
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public = PublicKey(name, raw)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key (PKCS#8 PEM)")
        return cls(name, key)

    def pem(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def jws_key(self) -> Ed25519PrivateKey:
        return self._private


# --- checkpoints ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str | None  # the "time" extension line, RFC 3339
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (signer name, 4-byte key id, signature)
    body: str  # the signed text


def checkpoint_body(origin: str, size: int, root: bytes, time: datetime) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\ntime {format_time(time)[:19]}Z\n"


def sign_checkpoint(body: str, key: SigningKey) -> str:
    signature = key.sign(body.encode())
    blob = base64.b64encode(key.public.note_id + signature).decode()
    return f"{body}\n\u2014 {key.name} {blob}\n"


def parse_checkpoint(note: str) -> Checkpoint:
    """Raises ValueError when the text is not a signed checkpoint."""
    body, separator, signature_block = note.partition("\n\n")
    if not separator:
        raise ValueError("no blank line between the checkpoint and its signatures")
    body += "\n"
    lines = body.splitlines()
    if len(lines) < 3:
        raise ValueError("a checkpoint has an origin, a size and a root hash")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit():
        raise ValueError(f"tree size {size!r} is not a number")
    time = next((line[5:] for line in lines[3:] if line.startswith("time ")), None)
    signatures = []
    for line in signature_block.splitlines():
        if not line.startswith("\u2014 "):
            raise ValueError(f"not a signature line: {line!r}")
        name, _, blob = line[2:].rpartition(" ")
        raw = base64.b64decode(blob)
        if len(raw) != 4 + 64:
            raise ValueError("an Ed25519 note signature is a 4-byte key id and 64 bytes")
        signatures.append((name, raw[:4], raw[4:]))
    return Checkpoint(origin, int(size), base64.b64decode(root), time, tuple(signatures), body)


def verify_checkpoint(checkpoint: Checkpoint, keys: list[PublicKey]) -> PublicKey | None:
    """The trusted key that signed the checkpoint, or None."""
    for name, key_id, signature in checkpoint.signatures:
        for key in keys:
            if key.name == name and key.note_id == key_id and key.verify(signature, checkpoint.body.encode()):
                return key
    return None


# --- receipts ------------------------------------------------------------------------------------------------


def issue_receipt(record: ConsentRecord, record_hash: str, key: SigningKey, issuer: str) -> str:
    claims = {
        "iss": issuer,
        "sub": record.consent_id,
        "jti": record.record_id,
        "iat": int(record.time.timestamp()),
        "site": record.site,
        "time": format_time(record.time),
        "version": record.version,
        "language": record.language,
        "choices": dict(record.choices),
        "method": str(record.method),
        "rule": dict(record.rule),
        "record_hash": record_hash,
    }
    return jwt.encode(claims, key.jws_key(), algorithm="EdDSA", headers={"kid": key.public.kid, "typ": RECEIPT_TYPE})


def verify_receipt(token: str, keys: list[PublicKey]) -> dict:
    """The receipt's claims, if a trusted key signed it; raises ValueError otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise ValueError(f"not a JWS: {error}") from None
    key = next((k for k in keys if k.kid == header.get("kid")), None)
    if key is None or header.get("alg") != "EdDSA":
        raise ValueError("signed with an unknown key")
    public = Ed25519PublicKey.from_public_bytes(key.raw)
    try:
        return jwt.decode(token, public, algorithms=["EdDSA"], options={"verify_aud": False, "verify_iat": False})
    except jwt.PyJWTError as error:
        raise ValueError(f"invalid receipt: {error}") from None
