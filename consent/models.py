"""SQLAlchemy persistence: a site's editable draft, its published versions and the API keys that act on it.

Draft rows convert to and from the core's values (``to_value`` / ``assign``), so the rules of consent never see
a row. Published versions and publications are append-only: the application never updates or deletes them, and
the database refuses it too (triggers created by the migrations).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    inspect,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .core import records as rec
from .core import siteconfig as sc
from .core.notices import DEFAULT_DAYS, ChangeNotice
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class DomainTaken(ValueError):
    """Another site already serves some of these domains (a domain belongs to one site)."""

    def __init__(self, conflicts: dict[int, str]):
        self.conflicts = conflicts  # position in the site's domain list -> the other site's key
        super().__init__("; ".join(f"domain {i} is already used by site {key!r}" for i, key in conflicts.items()))


def _ordered(target: str, **kwargs: Any):
    return relationship(target, order_by=f"{target}.position", cascade="all, delete-orphan", **kwargs)


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_language: Mapped[str] = mapped_column(String(35))
    default_region: Mapped[str | None] = mapped_column(String(6))
    retention_days: Mapped[int] = mapped_column(Integer)
    sells_or_shares: Mapped[bool] = mapped_column(Boolean)
    allow_region_override: Mapped[bool] = mapped_column(Boolean)
    # The snippet options (sc.SnippetOptions); a missing theme or Consent Mode field takes the core's default.
    theme: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    consent_mode: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reload_on_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_button: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    domains: Mapped[list[SiteDomain]] = _ordered("SiteDomain")
    categories: Mapped[list[Category]] = _ordered("Category")
    vendors: Mapped[list[Vendor]] = _ordered("Vendor")
    texts: Mapped[list[BannerText]] = _ordered("BannerText")
    rules: Mapped[list[RegionalRule]] = _ordered("RegionalRule")

    def to_value(self) -> sc.Site:
        return sc.Site(
            key=self.key,
            name=self.name,
            domains=tuple(d.domain for d in self.domains),
            default_language=self.default_language,
            default_region=self.default_region,
            retention_days=self.retention_days,
            sells_or_shares=self.sells_or_shares,
            allow_region_override=self.allow_region_override,
        )

    def assign(self, value: sc.Site) -> None:
        self.key = value.key
        self.name = value.name
        self.default_language = value.default_language
        self.default_region = value.default_region
        self.retention_days = value.retention_days
        self.sells_or_shares = value.sells_or_shares
        self.allow_region_override = value.allow_region_override
        if [d.domain for d in self.domains] != list(value.domains):
            self._check_domains_free(value.domains)
            _replace(self, "domains", [SiteDomain(domain=d, position=i) for i, d in enumerate(value.domains)])

    def _check_domains_free(self, domains: tuple[str, ...]) -> None:
        with db.session.no_autoflush:
            taken = dict(
                db.session.execute(
                    select(SiteDomain.domain, Site.key)
                    .join(Site, Site.id == SiteDomain.site_id)
                    .where(SiteDomain.domain.in_(domains), Site.id != self.id if self.id else true())
                ).all()
            )
        if taken:
            raise DomainTaken({i: taken[d] for i, d in enumerate(domains) if d in taken})

    def snippet_options(self) -> sc.SnippetOptions:
        theme = self.theme or {}
        mode = self.consent_mode or {}
        types = {key: tuple(sc.ConsentType(t) for t in values) for key, values in mode.get("types", {}).items()}
        return sc.SnippetOptions(
            theme=sc.Theme(
                **{k: v for k, v in theme.items() if k != "position"},
                **({"position": sc.BannerPosition(theme["position"])} if "position" in theme else {}),
            ),
            consent_mode=sc.ConsentMode(**{**mode, "types": types}),
            reload_on_opt_out=bool(self.reload_on_opt_out),
            reopen_button=self.reopen_button is not False,  # None: a site not flushed yet
        )

    def assign_snippet_options(self, value: sc.SnippetOptions) -> None:
        self.theme = {name: str(v) for name, v in vars(value.theme).items()}
        mode = vars(value.consent_mode)
        self.consent_mode = {
            **mode,
            "types": {key: [str(t) for t in types] for key, types in value.consent_mode.types.items()},
        }
        self.reload_on_opt_out = value.reload_on_opt_out
        self.reopen_button = value.reopen_button

    def draft(self) -> sc.SiteConfig:
        """The configuration being edited, as a core value."""
        return sc.SiteConfig(
            site=self.to_value(),
            categories=tuple(c.to_value() for c in self.categories),
            vendors=tuple(v.to_value() for v in self.vendors),
            texts=tuple(t.to_value() for t in self.texts),
            rules=tuple(r.to_value() for r in self.rules),
            snippet=self.snippet_options(),
        )

    def replace_draft(self, config: sc.SiteConfig) -> None:
        """Make the draft exactly ``config``: children are replaced wholesale, in order."""
        self.assign(config.site)
        self.assign_snippet_options(config.snippet)
        _replace(self, "vendors", [])  # vendors first: they refer to categories
        _replace(self, "categories", [Category.new(c, i) for i, c in enumerate(config.categories)])
        by_key = {c.key: c for c in self.categories}
        _replace(self, "vendors", [Vendor.new(v, i, by_key) for i, v in enumerate(config.vendors)])
        _replace(self, "texts", [BannerText.new(t, i) for i, t in enumerate(config.texts)])
        _replace(self, "rules", [RegionalRule.new(r, i) for i, r in enumerate(config.rules)])


def _replace(owner, collection: str, rows: list) -> None:
    """Swap a one-to-many collection, deleting the old rows before inserting the new ones (which may reuse
    their unique keys; the unit of work would otherwise insert first)."""
    if inspect(owner).persistent and getattr(owner, collection):
        setattr(owner, collection, [])
        db.session.flush()
    setattr(owner, collection, rows)


class SiteDomain(db.Model):
    __tablename__ = "site_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(260), unique=True)
    position: Mapped[int] = mapped_column(Integer)


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(20))
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    sale_or_sharing: Mapped[bool | None] = mapped_column(Boolean)

    @classmethod
    def new(cls, value: sc.Category, position: int) -> Category:
        row = cls(position=position)
        row.assign(value)
        return row

    def assign(self, value: sc.Category) -> None:
        self.key = value.key
        self.purpose = value.purpose.value
        self.name = dict(value.name)
        self.description = dict(value.description)
        self.sale_or_sharing = value.sale_or_sharing

    def to_value(self) -> sc.Category:
        return sc.Category(
            key=self.key,
            purpose=sc.Purpose(self.purpose),
            name=dict(self.name),
            description=dict(self.description),
            sale_or_sharing=self.sale_or_sharing,
        )


class Vendor(db.Model):
    __tablename__ = "vendors"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    privacy_policy_url: Mapped[str | None] = mapped_column(String(2000))
    description: Mapped[dict[str, str]] = mapped_column(JSON)

    category: Mapped[Category] = relationship()
    cookies: Mapped[list[StorageItem]] = _ordered("StorageItem")

    @classmethod
    def new(cls, value: sc.Vendor, position: int, categories: dict[str, Category]) -> Vendor:
        row = cls(position=position)
        row.assign(value, categories)
        return row

    def assign(self, value: sc.Vendor, categories: dict[str, Category]) -> None:
        self.key = value.key
        self.category = categories[value.category]
        self.name = value.name
        self.privacy_policy_url = value.privacy_policy_url
        self.description = dict(value.description)
        self.cookies = [StorageItem.new(c, i) for i, c in enumerate(value.cookies)]

    def to_value(self) -> sc.Vendor:
        return sc.Vendor(
            key=self.key,
            name=self.name,
            category=self.category.key,
            privacy_policy_url=self.privacy_policy_url,
            description=dict(self.description),
            cookies=tuple(c.to_value() for c in self.cookies),
        )


class StorageItem(db.Model):
    __tablename__ = "storage_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(20))
    domain: Mapped[str | None] = mapped_column(String(253))
    duration: Mapped[str] = mapped_column(String(40))
    party: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[dict[str, str]] = mapped_column(JSON)

    @classmethod
    def new(cls, value: sc.StorageItem, position: int) -> StorageItem:
        return cls(
            position=position,
            name=value.name,
            type=value.type.value,
            domain=value.domain,
            duration=value.duration,
            party=value.party.value,
            purpose=dict(value.purpose),
        )

    def to_value(self) -> sc.StorageItem:
        return sc.StorageItem(
            name=self.name,
            type=sc.StorageType(self.type),
            domain=self.domain,
            duration=self.duration,
            party=sc.Party(self.party),
            purpose=dict(self.purpose),
        )


class BannerText(db.Model):
    __tablename__ = "banner_texts"
    __table_args__ = (UniqueConstraint("site_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(35))
    position: Mapped[int] = mapped_column(Integer)
    texts: Mapped[dict[str, str]] = mapped_column(JSON)  # field -> text, for the fields in sc.TEXT_FIELDS
    variants: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON)

    @classmethod
    def new(cls, value: sc.BannerText, position: int) -> BannerText:
        row = cls(position=position)
        row.assign(value)
        return row

    def assign(self, value: sc.BannerText) -> None:
        self.language = value.language
        self.texts = {k: v for k, v in value.fields().items() if v is not None}
        self.variants = {name: dict(fields) for name, fields in value.variants.items()}

    def to_value(self) -> sc.BannerText:
        return sc.BannerText(language=self.language, variants=dict(self.variants), **self.texts)


class RegionalRule(db.Model):
    __tablename__ = "regional_rules"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    regions: Mapped[list[str]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(10))
    buttons: Mapped[list[str]] = mapped_column(JSON)
    links: Mapped[list[str]] = mapped_column(JSON)
    defaults: Mapped[dict[str, bool]] = mapped_column(JSON)
    gpc: Mapped[str] = mapped_column(String(12))
    dnt: Mapped[str] = mapped_column(String(12))
    implied_consent: Mapped[bool] = mapped_column(Boolean)
    consent_lifetime_days: Mapped[int] = mapped_column(Integer)
    refusal_lifetime_days: Mapped[int] = mapped_column(Integer)
    text_variant: Mapped[str | None] = mapped_column(String(63))

    @classmethod
    def new(cls, value: sc.RegionalRule, position: int) -> RegionalRule:
        row = cls(position=position)
        row.assign(value)
        return row

    def assign(self, value: sc.RegionalRule) -> None:
        self.key = value.key
        self.name = value.name
        self.regions = list(value.regions)
        self.model = value.model.value
        self.buttons = [b.value for b in value.first_layer.buttons]
        self.links = [link.value for link in value.first_layer.links]
        self.defaults = dict(value.defaults)
        self.gpc = value.gpc.value
        self.dnt = value.dnt.value
        self.implied_consent = value.implied_consent
        self.consent_lifetime_days = value.consent_lifetime_days
        self.refusal_lifetime_days = value.refusal_lifetime_days
        self.text_variant = value.text_variant

    def to_value(self) -> sc.RegionalRule:
        return sc.RegionalRule(
            key=self.key,
            name=self.name,
            regions=tuple(self.regions),
            model=sc.ConsentModel(self.model),
            first_layer=sc.FirstLayer(
                buttons=tuple(sc.Button(b) for b in self.buttons),
                links=tuple(sc.Link(link) for link in self.links),
            ),
            defaults=dict(self.defaults),
            gpc=sc.SignalTreatment(self.gpc),
            dnt=sc.SignalTreatment(self.dnt),
            implied_consent=self.implied_consent,
            consent_lifetime_days=self.consent_lifetime_days,
            refusal_lifetime_days=self.refusal_lifetime_days,
            text_variant=self.text_variant,
        )


class PublishedVersion(db.Model):
    """A site's whole configuration frozen at publication, identified by the SHA-256 of its canonical JSON."""

    __tablename__ = "published_versions"
    __table_args__ = (UniqueConstraint("site_id", "number"), UniqueConstraint("site_id", "hash"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)  # the canonical JSON whose SHA-256 is `hash`
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publication(db.Model):
    """When a version went live: the history of what visitors were shown."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("published_versions.id", ondelete="RESTRICT"), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(String(500))
    # A material change: returning visitors are told, in their language, for notice_days (consent.core.notices)
    notice: Mapped[dict[str, str] | None] = mapped_column(JSON)
    notice_days: Mapped[int | None] = mapped_column(Integer)

    version: Mapped[PublishedVersion] = relationship()

    def change_notice(self) -> ChangeNotice | None:
        if not self.notice:
            return None
        return ChangeNotice(dict(self.notice), self.notice_days or DEFAULT_DAYS, self.published_at)


class ApiKey(db.Model):
    """A credential for the owner API. Only the SHA-256 of the secret is stored; keys are revoked, not deleted."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site | None] = relationship()


# --- the consent log -------------------------------------------------------------------------------------------

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY


class ConsentSubject(db.Model):
    """A visitor's pseudonymous consent ID, and the digest of the secret only their browser holds."""

    __tablename__ = "consent_subjects"

    consent_id: Mapped[str] = mapped_column(String(22), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Record(db.Model):
    """One decision: its canonical form, stored verbatim as it was hashed into the site's log (the evidence), and
    beside it the columns records are found by, which ``verify`` checks agree with it. Append-only: the database
    refuses UPDATE, and DELETE except during a recorded retention purge."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index("ix_consent_records_site_time", "site_id", "time"),
        {"postgresql_partition_by": "RANGE (id)"},  # by time: see consent.partitions
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)  # partitions.record_key()
    record_id: Mapped[str] = mapped_column(String(36), index=True)  # unique by making (UUID 4) and in log_entries
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    consent_id: Mapped[str] = mapped_column(String(22), index=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[str] = mapped_column(Text)  # the canonical JSON (RFC 8785) whose hash is the record's leaf
    receipt: Mapped[str] = mapped_column(Text)  # the signed receipt the visitor was given

    personal: Mapped[PersonalRecordData | None] = relationship(
        back_populates="record", cascade="all, delete-orphan", passive_deletes=True
    )


class PersonalRecordData(db.Model):
    """The personal data of one record: erasable (GDPR Art. 17) without breaking verification, since the record
    holds only their salted digest."""

    __tablename__ = "record_personal_data"

    record_pk: Mapped[int] = mapped_column(ForeignKey("consent_records.id", ondelete="CASCADE"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(32))  # hex
    data: Mapped[str] = mapped_column(Text)  # canonical JSON: browser, device, ip, os, url

    record: Mapped[Record] = relationship(back_populates="personal")

    def to_value(self) -> rec.PersonalData:
        return rec.PersonalData.stored(self.salt, self.data)


class DecisionKey(db.Model):
    """The digest of the key a visitor's browser sends with a decision and with every retry of it, and the record it
    made: a retry is answered with that record instead of a second one. Needed for days, not years: prunable."""

    __tablename__ = "decision_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    record_pk: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingRecord(db.Model):
    """A record not yet given a position in its site's log (the sequencer empties this queue)."""

    __tablename__ = "pending_records"

    record_pk: Mapped[int] = mapped_column(ForeignKey("consent_records.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    leaf_hash: Mapped[str] = mapped_column(String(64))  # computed when recorded: what the receipt signed


class LogEntry(db.Model):
    """A position in a site's log: the leaf hash committed there, and the record it holds. Append-only; kept
    when a purge removes the record, so the tree still verifies."""

    __tablename__ = "log_entries"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)
    record_pk: Mapped[int] = mapped_column(BigId)  # consent_records.id; no foreign key: a purge removes the record
    leaf_hash: Mapped[str] = mapped_column(String(64))
    record_time: Mapped[datetime] = mapped_column(UTCDateTime)  # tells a purged record from a deleted one


class LogHead(db.Model):
    """The current size of a site's log and the right edge of its tree: the sequencer's lock and memory."""

    __tablename__ = "log_heads"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[list[list]] = mapped_column(JSON)  # [[subtree size, hex hash], ...], largest first


class LogCheckpoint(db.Model):
    """A signed statement of a site's log: its size and Merkle root (a C2SP signed note). Append-only."""

    __tablename__ = "checkpoints"
    __table_args__ = (Index("ix_checkpoints_site_size", "site_id", "tree_size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(43))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishedKey(db.Model):
    """Every public key that ever signed, so receipts and checkpoints verify after a rotation. Append-only."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(43), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64))  # hex of the raw 32-byte Ed25519 key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Purge(db.Model):
    """A retention purge: which records it removed. Append-only, and the only way records leave the log."""

    __tablename__ = "purges"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    before: Mapped[datetime] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PurgeAuthorization(db.Model):
    """Present only inside a purge's own transaction: the append-only trigger lets records older than
    ``before`` be deleted while it exists."""

    __tablename__ = "purge_authorizations"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    before: Mapped[datetime] = mapped_column(UTCDateTime)


class Erasure(db.Model):
    """One visitor's personal data erased (GDPR Art. 17): when, and from how many records. Append-only."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    consent_id: Mapped[str] = mapped_column(String(22))
    records: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the consent-rate report -----------------------------------------------------------------------------------


class ImpressionCount(db.Model):
    """How many times a site's banner was shown on a UTC day, of a published version, in a region: a counter,
    with no identifier of any visitor (no IP address, no consent ID, no row per visitor)."""

    __tablename__ = "impression_counts"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(10), primary_key=True)  # "FR", "US-CA", or "unknown"
    count: Mapped[int] = mapped_column(BigInteger)
