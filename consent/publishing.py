"""Publishing: freezing a site's draft as an immutable, content-hashed version, and reading versions back.

A version is the canonical JSON of the whole configuration (:mod:`consent.core.canonical`); its SHA-256 is its
identity, so publishing an unchanged draft changes nothing, and publishing an earlier configuration again makes
that earlier version live again. Each time a version goes live a publication is appended, which is the history
of what visitors were shown and when.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy import func, select

from .core import compliance, siteconfig
from .core.canonical import canonical_bytes, content_hash
from .core.notices import ChangeNotice
from .extensions import db
from .models import ApiKey, Publication, PublishedVersion, Site
from .schemas.site import SiteConfigSchema, build, document, raise_problems


@dataclass(frozen=True)
class Published:
    version: PublishedVersion
    went_live: bool  # False when the draft was already the live version


def publish(
    site: Site, *, api_key: ApiKey | None = None, note: str | None = None, notice: ChangeNotice | None = None
) -> Published:
    """Freeze the draft. Raises marshmallow's ValidationError (naming each field) if it cannot be published.
    ``notice`` marks the publication a material change, which returning visitors are told about."""
    config = site.draft()
    raise_problems(siteconfig.problems(config))
    canonical = canonical_bytes(document(config))
    digest = hashlib.sha256(canonical).hexdigest()

    live = live_version(site)
    if live is not None and live.hash == digest:
        return Published(live, went_live=False)

    version = db.session.scalar(
        select(PublishedVersion).where(PublishedVersion.site_id == site.id, PublishedVersion.hash == digest)
    )
    if version is None:
        number = db.session.scalar(
            select(func.coalesce(func.max(PublishedVersion.number), 0)).where(PublishedVersion.site_id == site.id)
        )
        version = PublishedVersion(
            site_id=site.id,
            number=number + 1,
            hash=digest,
            document=canonical.decode(),
            warnings=[warning_json(w) for w in compliance.check(config)],
        )
        db.session.add(version)
    db.session.add(
        Publication(
            site_id=site.id,
            version=version,
            api_key_id=api_key and api_key.id,
            note=note,
            notice=dict(notice.message) if notice else None,
            notice_days=notice.days if notice else None,
        )
    )
    db.session.flush()
    return Published(version, went_live=True)


def live_publication(site_id: int) -> Publication | None:
    """The publication that made the live version live."""
    return db.session.scalar(
        select(Publication).where(Publication.site_id == site_id).order_by(Publication.id.desc()).limit(1)
    )


def live_version(site: Site) -> PublishedVersion | None:
    return db.session.scalar(
        select(PublishedVersion)
        .join(Publication, Publication.version_id == PublishedVersion.id)
        .where(Publication.site_id == site.id)
        .order_by(Publication.id.desc())
        .limit(1)
    )


def versions(site: Site) -> list[PublishedVersion]:
    """Every version of a site, newest first."""
    return db.session.scalars(
        select(PublishedVersion).where(PublishedVersion.site_id == site.id).order_by(PublishedVersion.number.desc())
    ).all()


def publications_of(version: PublishedVersion) -> list[Publication]:
    """The times a version went live, oldest first."""
    return db.session.scalars(
        select(Publication).where(Publication.version_id == version.id).order_by(Publication.id)
    ).all()


def find_version(site: Site, digest: str) -> PublishedVersion | None:
    return db.session.scalar(
        select(PublishedVersion).where(PublishedVersion.site_id == site.id, PublishedVersion.hash == digest)
    )


def draft_hash(site: Site) -> str:
    return content_hash(document(site.draft()))


@lru_cache(maxsize=256)
def config_of(text: str) -> siteconfig.SiteConfig:
    """The configuration a published version froze (parsed once per process and version)."""
    return build(SiteConfigSchema().load(json.loads(text)))


def warning_json(warning: compliance.ComplianceWarning) -> dict:
    value = asdict(warning)
    value["regions"] = list(warning.regions)
    value["served"] = _plain(warning.served)
    return value


def _plain(value):
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value.value if hasattr(value, "value") else value


@dataclass(frozen=True)
class PublishedConfig:
    site_id: int
    config: siteconfig.SiteConfig


def published(site_key: str, digest: str) -> PublishedConfig | None:
    """A version the site has published (live or not), by its hash; kept in memory once found, since a published
    version never changes (a version not found is asked again: it may be published later). The memory is the
    app's, as the database is: the same version in another database belongs to another site id."""
    _published = current_app.extensions.setdefault("cmp.published", {})
    found = _published.get((site_key, digest))
    if found is None:
        row = db.session.execute(
            select(PublishedVersion.site_id, PublishedVersion.document)
            .join(Site, Site.id == PublishedVersion.site_id)
            .where(Site.key == site_key, PublishedVersion.hash == digest)
        ).first()
        if row is None:
            return None
        if len(_published) > 1024:
            _published.clear()
        found = _published[(site_key, digest)] = PublishedConfig(row.site_id, config_of(row.document))
    return found
