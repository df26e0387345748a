"""The key that signs receipts and checkpoints now, and every public key that ever signed.

The operator configures the signing key (``CMP_SIGNING_KEY``, an Ed25519 PKCS#8 PEM file); on a developer's
machine one is created in the instance folder. Each key's public half is recorded in the database when it first
signs, and stays published at ``/.well-known/consent-keys.json``, so rotating the key never stops older receipts
and checkpoints from verifying.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .config import INSTANCE, Settings
from .core.signing import PublicKey, SigningKey
from .extensions import db
from .models import PublishedKey


class KeyRing:
    def __init__(self, settings: Settings):
        self.name = settings.log_name
        self.signing = SigningKey.from_pem(self.name, _key_file(settings).read_bytes())
        self._registered = False

    @property
    def current(self) -> SigningKey:
        """The signing key, its public half recorded (call within an application context)."""
        if not self._registered:
            if db.session.get(PublishedKey, self.signing.public.kid) is None:
                try:
                    with db.session.begin_nested():
                        db.session.add(
                            PublishedKey(
                                kid=self.signing.public.kid, name=self.name, public_key=self.signing.public.raw.hex()
                            )
                        )
                except IntegrityError:
                    pass  # another process recorded it first
            self._registered = True
        return self.signing

    def public_keys(self) -> list[PublicKey]:
        """Every key that ever signed here, the current one first."""
        rows = db.session.scalars(select(PublishedKey).order_by(PublishedKey.created_at.desc())).all()
        keys = [PublicKey(row.name, bytes.fromhex(row.public_key)) for row in rows]
        if self.signing.public not in keys:
            keys.insert(0, self.signing.public)
        return keys


def _key_file(settings: Settings) -> Path:
    if settings.signing_key:
        return Path(settings.signing_key)
    path = INSTANCE / "signing-key.pem"  # development only: production refuses to start without a key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(SigningKey.generate(settings.log_name).pem())
    return path
