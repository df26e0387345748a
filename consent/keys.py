"""API keys: issued once, stored as a SHA-256 digest, scoped to one site (or to the operator), revocable.

Keys are 256-bit random secrets, so a plain SHA-256 is a sufficient one-way store (a slow password hash only
helps against guessable secrets), and lookups by digest stay a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from sqlalchemy import select

from .extensions import db
from .models import ApiKey, Site, utcnow

PREFIX = "cmp_"


class Role(StrEnum):
    ADMIN = "admin"  # the operator: creates sites, acts on every site
    OWNER = "owner"  # reads and changes one site
    AUDITOR = "auditor"  # reads one site

    @property
    def can_write(self) -> bool:
        return self in (Role.ADMIN, Role.OWNER)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(role: Role, name: str, site: Site | None) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is shown once and never stored."""
    if (role == Role.ADMIN) != (site is None):
        raise ValueError("admin keys belong to no site; owner and auditor keys belong to one")
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(site=site, role=role.value, name=name, key_hash=digest(secret), prefix=secret[:12])
    db.session.add(key)
    return key, secret


def find(secret: str) -> ApiKey | None:
    """The live key with this secret, if any."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret)))
    return key if key is not None and key.revoked_at is None else None


def revoke(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
