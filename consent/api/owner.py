"""The owner API: sites, their draft configuration (categories, vendors, banner texts, regional rules),
compliance warnings, publishing, versions and API keys.

Views parse input with the configuration schemas, check the prospective draft with the core's consistency
rules, persist and answer. Each request is one transaction: a change is written whole or not at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from .. import keys, publishing
from ..core import compliance, siteconfig
from ..core.notices import DEFAULT_DAYS, ChangeNotice
from ..extensions import db
from ..models import ApiKey, BannerText, Category, DomainTaken, RegionalRule, Site, Vendor
from ..schemas import site as doc
from ..schemas.api import (
    ApiKeyCreatedSchema,
    ApiKeyInSchema,
    ApiKeySchema,
    PublishedSchema,
    PublishInSchema,
    SiteStateSchema,
    VersionSchema,
    VersionSummarySchema,
    WarningSchema,
)
from .auth import SECURITY, current_key, require_admin, site_for

blp = Blueprint(
    "owner",
    __name__,
    url_prefix="/api/v1",
    description="Configure sites, check them against the law of the regions they serve, and publish them.",
)


def top_level_patch(schema: type[Schema], exclude: str) -> Schema:
    """A schema for PATCH: each top-level field may be left out, but a nested object sent is sent whole."""
    fields = tuple(name for name in schema().fields if name != exclude)
    return schema(partial=fields, exclude=(exclude,))


@blp.before_request
def _json_bodies_only() -> None:
    """A body that is not JSON would be read as no body at all; say so instead of silently changing nothing."""
    if request.content_length and not request.is_json:
        abort(415, message="Send the request body as JSON (Content-Type: application/json).")


def _assign_site(site: Site, value, *path: str) -> None:
    """Set a site's settings; a domain another site serves is a 409 naming it."""
    try:
        site.assign(value)
    except DomainTaken as taken:
        errors = {"domains": {i: [f"already used by site {key!r}"] for i, key in taken.conflicts.items()}}
        for part in reversed(path):
            errors = {part: errors}
        abort(409, errors={"json": errors}, message="A domain belongs to one site only.")


def _unprocessable(error: ValidationError) -> None:
    abort(422, errors={"json": error.messages}, message="The configuration is not valid; see 'errors'.")


def _commit_publication(site: Site) -> None:
    db.session.commit()
    current_app.extensions["cmp.live"].forget(site.key)  # this process serves the new version at once


# --- sites -----------------------------------------------------------------------------------------------------


def site_state(site: Site) -> dict[str, Any]:
    live = publishing.live_version(site)
    return {
        **dataclasses.asdict(site.to_value()),
        "live_version": live.hash if live else None,
        "live_version_number": live.number if live else None,
        "draft_changed": live is None or publishing.draft_hash(site) != live.hash,
    }


@blp.route("/sites")
class Sites(MethodView):
    @blp.doc(security=SECURITY, summary="The sites this API key can see")
    @blp.response(200, SiteStateSchema(many=True))
    def get(self):
        key = current_key()
        query = select(Site).order_by(Site.key)
        if key.role != keys.Role.ADMIN:
            query = query.where(Site.id == key.site_id)
        return [site_state(s) for s in db.session.scalars(query)]

    @blp.doc(security=SECURITY, summary="Create a site (operator's admin key)")
    @blp.arguments(doc.SiteSchema)
    @blp.response(201, SiteStateSchema)
    def post(self, data):
        require_admin()
        value = doc.build_site(data)
        if db.session.scalar(select(Site.id).where(Site.key == value.key)) is not None:
            abort(409, errors={"json": {"key": [f"a site {value.key!r} already exists"]}}, message="Site exists.")
        site = Site()
        _assign_site(site, value)
        db.session.add(site)
        db.session.commit()
        return site_state(site)


@blp.route("/sites/<site_key>")
class SiteResource(MethodView):
    @blp.doc(security=SECURITY, summary="A site's settings and publication state")
    @blp.response(200, SiteStateSchema)
    def get(self, site_key):
        return site_state(site_for(site_key))

    @blp.doc(security=SECURITY, summary="Change a site's settings (the key cannot change)")
    @blp.arguments(top_level_patch(doc.SiteSchema, exclude="key"))
    @blp.response(200, SiteStateSchema)
    def patch(self, data, site_key):
        site = site_for(site_key, write=True)
        schema = doc.SiteSchema()
        merged = {**schema.load(schema.dump(site.to_value())), **data}
        _assign_site(site, doc.build_site(merged))
        db.session.commit()
        return site_state(site)


@blp.route("/sites/<site_key>/config")
class SiteConfigResource(MethodView):
    @blp.doc(security=SECURITY, summary="The whole draft, in the configuration file format")
    @blp.response(200, doc.SiteConfigSchema)
    def get(self, site_key):
        return site_for(site_key).draft()

    @blp.doc(security=SECURITY, summary="Replace the whole draft (the file format; the site key cannot change)")
    @blp.arguments(doc.SiteConfigSchema)
    @blp.response(200, doc.SiteConfigSchema)
    def put(self, data, site_key):
        site = site_for(site_key, write=True)
        config = doc.build(data)
        if config.site.key != site.key:
            abort(422, errors={"json": {"site": {"key": ["the site key cannot change"]}}})
        _assign_site(site, config.site, "site")
        site.replace_draft(config)
        db.session.commit()
        return site.draft()


@blp.route("/sites/<site_key>/compliance")
class Compliance(MethodView):
    @blp.doc(
        security=SECURITY,
        summary="Where the draft falls short of the law of a region it serves",
        description="Each warning names the rule, the regions, the law and what visitors are served instead. "
        "The draft must be consistent (publishable) to be checked.",
    )
    @blp.response(200, WarningSchema(many=True))
    def get(self, site_key):
        config = site_for(site_key).draft()
        try:
            doc.raise_problems(siteconfig.problems(config))
        except ValidationError as error:
            abort(422, errors={"draft": error.messages}, message="The draft is not consistent; see 'errors'.")
        return [publishing.warning_json(w) for w in compliance.check(config)]


# --- versions --------------------------------------------------------------------------------------------------


def version_summary(version, publications, live_hash: str | None) -> dict[str, Any]:
    return {
        "number": version.number,
        "hash": version.hash,
        "created_at": version.created_at,
        "live": version.hash == live_hash,
        "publications": [
            {"published_at": p.published_at, "note": p.note, "notice": p.notice, "notice_days": p.notice_days}
            for p in publications
        ],
        "warnings": version.warnings,
    }


@blp.route("/sites/<site_key>/versions")
class Versions(MethodView):
    @blp.doc(security=SECURITY, summary="Every published version, newest first")
    @blp.response(200, VersionSummarySchema(many=True))
    def get(self, site_key):
        site = site_for(site_key)
        live = publishing.live_version(site)
        return [
            version_summary(v, publishing.publications_of(v), live and live.hash) for v in publishing.versions(site)
        ]

    @blp.doc(
        security=SECURITY,
        summary="Publish the draft",
        description="Freezes the draft as an immutable version identified by the SHA-256 of its canonical JSON "
        "and makes it live. Publishing an unchanged draft changes nothing (200, went_live false).",
    )
    @blp.arguments(PublishInSchema)
    @blp.response(201, PublishedSchema)
    @blp.alt_response(200, schema=PublishedSchema, description="The draft was already live.")
    def post(self, data, site_key):
        site = site_for(site_key, write=True)
        notice = None
        if "notice" in data:
            if site.default_language not in data["notice"]:
                abort(
                    422,
                    errors={"json": {"notice": [f"give the notice in the default language {site.default_language!r}"]}},
                )
            notice = ChangeNotice(data["notice"], data.get("notice_days", DEFAULT_DAYS))
        try:
            result = publishing.publish(site, api_key=current_key(), note=data.get("note"), notice=notice)
        except ValidationError as error:
            _unprocessable(error)
        _commit_publication(site)
        summary = version_summary(result.version, publishing.publications_of(result.version), result.version.hash)
        body = {"went_live": result.went_live, "version": summary}
        return body, 201 if result.went_live else 200


@blp.route("/sites/<site_key>/versions/<version_hash>")
class VersionResource(MethodView):
    @blp.doc(security=SECURITY, summary="One published version and the configuration it froze")
    @blp.response(200, VersionSchema)
    def get(self, site_key, version_hash):
        site = site_for(site_key)
        version = publishing.find_version(site, version_hash)
        if version is None:
            abort(404, message=f"Site {site_key!r} has no version {version_hash!r}.")
        live = publishing.live_version(site)
        summary = version_summary(version, publishing.publications_of(version), live and live.hash)
        return {**summary, "document": publishing.config_of(version.document)}


# --- API keys --------------------------------------------------------------------------------------------------


@blp.route("/sites/<site_key>/api-keys")
class ApiKeys(MethodView):
    @blp.doc(security=SECURITY, summary="The site's API keys (never their secrets)")
    @blp.response(200, ApiKeySchema(many=True))
    def get(self, site_key):
        site = site_for(site_key)
        return db.session.scalars(select(ApiKey).where(ApiKey.site_id == site.id).order_by(ApiKey.id)).all()

    @blp.doc(security=SECURITY, summary="Issue an owner or auditor key for the site; its secret is shown once")
    @blp.arguments(ApiKeyInSchema)
    @blp.response(201, ApiKeyCreatedSchema)
    def post(self, data, site_key):
        site = site_for(site_key, write=True)
        if data["role"] == keys.Role.ADMIN:
            abort(422, errors={"json": {"role": ["a site's keys are owner or auditor keys"]}})
        key, secret = keys.issue(data["role"], data["name"], site)
        db.session.commit()
        return {column: getattr(key, column) for column in ApiKeySchema().fields} | {"key": secret}


@blp.route("/sites/<site_key>/api-keys/<int(max=2147483647):key_id>")  # the column is 32-bit
class ApiKeyResource(MethodView):
    @blp.doc(security=SECURITY, summary="Revoke a key (it stays listed, revoked)")
    @blp.response(204)
    def delete(self, site_key, key_id):
        site = site_for(site_key, write=True)
        key = db.session.get(ApiKey, key_id)
        if key is None or key.site_id != site.id:
            abort(404, message=f"Site {site_key!r} has no API key {key_id}.")
        keys.revoke(key)
        db.session.commit()


# --- the draft's collections -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    """A keyed list in a site's draft (categories, vendors, texts, rules) and how its rows are kept."""

    name: str  # the SiteConfig attribute and URL segment
    schema: type[Schema]
    key: str  # the attribute identifying an item
    build: Callable[[dict], Any]
    rows: Callable[[Site], list]
    new_row: Callable[[Site, Any, int], Any]
    update_row: Callable[[Site, Any, Any], None]

    def find(self, site: Site, item_key: str):
        row = next((r for r in self.rows(site) if getattr(r, self.key) == item_key), None)
        if row is None:
            abort(404, message=f"Site {site.key!r} has no {self.name} entry {item_key!r}.")
        return row

    def check(self, site: Site, items: list, index: int | None) -> None:
        """Refuse a change that leaves the draft inconsistent: 422 naming the item's fields when the item itself
        is at fault, 409 when the change breaks other entries (deleting a category vendors use)."""
        before = site.draft()
        after = dataclasses.replace(before, **{self.name: tuple(items)})
        old = set(map(_problem_key, siteconfig.problems(before)))
        new = [p for p in siteconfig.problems(after) if _problem_key(p) not in old]
        own = [(path[2:], msg) for path, msg in new if index is not None and path[:2] == (self.name, index)]
        if own:
            try:
                doc.raise_problems([(path or ("_schema",), msg) for path, msg in own])
            except ValidationError as error:
                _unprocessable(error)
        elsewhere = [p for p in new if len(p[0]) > 1 and p[0][:2] != (self.name, index)]
        if elsewhere:
            abort(
                409,
                message="The change would break other entries: "
                + "; ".join(f"{'.'.join(map(str, path))}: {msg}" for path, msg in elsewhere),
            )


def _problem_key(problem: siteconfig.Problem) -> tuple:
    path, message = problem
    return (path[0], message)


def register(collection: Collection, noun: str, plural: str) -> None:
    schema = collection.schema()
    patch_schema = top_level_patch(collection.schema, exclude=collection.key)

    class Items(MethodView):
        @blp.doc(security=SECURITY, summary=f"The draft's {plural}, in order")
        @blp.response(200, collection.schema(many=True))
        def get(self, site_key):
            return [row.to_value() for row in collection.rows(site_for(site_key))]

        @blp.doc(security=SECURITY, summary=f"Add a {noun} to the draft")
        @blp.arguments(collection.schema)
        @blp.response(201, collection.schema)
        def post(self, data, site_key):
            site = site_for(site_key, write=True)
            value = collection.build(data)
            item_key = getattr(value, collection.key)
            if any(getattr(r, collection.key) == item_key for r in collection.rows(site)):
                abort(409, errors={"json": {collection.key: [f"{item_key!r} exists already"]}}, message="Exists.")
            items = [row.to_value() for row in collection.rows(site)] + [value]
            collection.check(site, items, len(items) - 1)
            collection.rows(site).append(collection.new_row(site, value, len(items) - 1))
            db.session.commit()
            return value

    class Item(MethodView):
        @blp.doc(security=SECURITY, summary=f"One {noun} of the draft")
        @blp.response(200, collection.schema)
        def get(self, site_key, item_key):
            return collection.find(site_for(site_key), item_key).to_value()

        @blp.doc(security=SECURITY, summary=f"Change a {noun} (fields not sent are kept; lists are replaced)")
        @blp.arguments(patch_schema)
        @blp.response(200, collection.schema)
        def patch(self, data, site_key, item_key):
            site = site_for(site_key, write=True)
            row = collection.find(site, item_key)
            value = collection.build({**schema.load(schema.dump(row.to_value())), **data})
            rows = collection.rows(site)
            index = rows.index(row)
            items = [value if i == index else r.to_value() for i, r in enumerate(rows)]
            collection.check(site, items, index)
            collection.update_row(site, row, value)
            db.session.commit()
            return value

        @blp.doc(security=SECURITY, summary=f"Remove a {noun} from the draft")
        @blp.response(204)
        def delete(self, site_key, item_key):
            site = site_for(site_key, write=True)
            row = collection.find(site, item_key)
            rows = collection.rows(site)
            collection.check(site, [r.to_value() for r in rows if r is not row], None)
            rows.remove(row)
            db.session.commit()

    blp.route(f"/sites/<site_key>/{collection.name}", endpoint=collection.name)(Items)
    blp.route(f"/sites/<site_key>/{collection.name}/<item_key>", endpoint=f"{collection.name}_item")(Item)


def _categories_by_key(site: Site) -> dict[str, Category]:
    return {c.key: c for c in site.categories}


register(
    Collection(
        name="categories",
        schema=doc.CategorySchema,
        key="key",
        build=doc.build_category,
        rows=lambda site: site.categories,
        new_row=lambda site, value, i: Category.new(value, i),
        update_row=lambda site, row, value: row.assign(value),
    ),
    "category",
    "categories",
)
register(
    Collection(
        name="vendors",
        schema=doc.VendorSchema,
        key="key",
        build=doc.build_vendor,
        rows=lambda site: site.vendors,
        new_row=lambda site, value, i: Vendor.new(value, i, _categories_by_key(site)),
        update_row=lambda site, row, value: row.assign(value, _categories_by_key(site)),
    ),
    "vendor",
    "vendors",
)
register(
    Collection(
        name="texts",
        schema=doc.BannerTextSchema,
        key="language",
        build=doc.build_text,
        rows=lambda site: site.texts,
        new_row=lambda site, value, i: BannerText.new(value, i),
        update_row=lambda site, row, value: row.assign(value),
    ),
    "banner text",
    "banner texts",
)
register(
    Collection(
        name="rules",
        schema=doc.RegionalRuleSchema,
        key="key",
        build=doc.build_rule,
        rows=lambda site: site.rules,
        new_row=lambda site, value, i: RegionalRule.new(value, i),
        update_row=lambda site, row, value: row.assign(value),
    ),
    "regional rule",
    "regional rules",
)
