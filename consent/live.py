"""What each site serves right now, kept in memory so that answering a visitor rarely touches the database.

Published versions never change, so a parsed version (and every banner resolved from it) is cached for as long
as it is live. The only mutable fact, which version is live, is re-read at most every ``site_cache_seconds``;
a publication therefore reaches every process within that time. If the database cannot be reached, the last
known live version keeps being served and is marked stale.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .core import banner
from .core.canonical import canonical_bytes
from .core.regions import Region
from .core.siteconfig import SiteConfig
from .extensions import db
from .models import Publication, PublishedVersion, Site
from .publishing import config_of


@dataclass
class LiveSite:
    key: str
    version: str  # hash of the live version
    config: SiteConfig
    checked_at: float
    stale: bool = False
    banners: dict[tuple[str | None, str | None, str], tuple[bytes, str]] = field(default_factory=dict)

    def banner(self, region: Region, language: str) -> tuple[bytes, str]:
        """The resolved banner's JSON body and its entity tag (unquoted)."""
        cache_key = (region.country, region.subdivision, language)
        cached = self.banners.get(cache_key)
        if cached is None:
            body = canonical_bytes(banner.resolve(self.config, self.version, region, language))
            cached = (body, f"{self.version[:16]}-{_short_hash(body)}")
            if len(self.banners) > 2048:
                self.banners.clear()
            self.banners[cache_key] = cached
        return cached


class LiveSites:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self._sites: dict[str, LiveSite] = {}
        self._absent: dict[str, float] = {}  # keys with no live version, and when that was checked
        self._lock = threading.Lock()

    def get(self, key: str) -> LiveSite | None:
        """The site's live version, or None if the site does not exist or has never been published."""
        now = time.monotonic()
        entry = self._sites.get(key)
        if entry is not None and now - entry.checked_at < self.ttl:
            return entry
        if entry is None and now - self._absent.get(key, -self.ttl) < self.ttl:
            return None  # asked again for an unknown site: do not query the database for every such request
        try:
            live = db.session.execute(
                select(PublishedVersion.id, PublishedVersion.hash)
                .join(Publication, Publication.version_id == PublishedVersion.id)
                .join(Site, Site.id == Publication.site_id)
                .where(Site.key == key)
                .order_by(Publication.id.desc())
                .limit(1)
            ).first()
            if live is None:
                with self._lock:
                    self._sites.pop(key, None)
                    if len(self._absent) > 10_000:
                        self._absent.clear()
                    self._absent[key] = now
                return None
            if entry is None or entry.version != live.hash:
                text = db.session.scalar(select(PublishedVersion.document).where(PublishedVersion.id == live.id))
                entry = LiveSite(key=key, version=live.hash, config=config_of(text), checked_at=now)
            else:
                entry.checked_at, entry.stale = now, False
        except SQLAlchemyError:
            db.session.rollback()
            if entry is None:
                raise
            entry.stale = True  # serve what we had: a published version is still a valid answer
            return entry
        with self._lock:
            self._sites[key] = entry
        return entry

    def forget(self, key: str) -> None:
        self._sites.pop(key, None)
        self._absent.pop(key, None)


def _short_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]
