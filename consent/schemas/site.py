"""The site configuration document: one schema per concept, used by configuration files, the owner API and
publishing alike.

Schemas validate and load to plain dicts; :func:`build` turns a loaded document into the core's
:class:`~consent.core.siteconfig.SiteConfig`, whose data classes hold the defaults. Dumping goes the other way,
from the data classes, and leaves out unset optional values so exported files stay readable.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from ..core import siteconfig as sc
from .fields import (
    Domain,
    Duration,
    HttpUrl,
    Key,
    LanguageTag,
    LocalizedText,
    RegionCode,
    RegionEntry,
    StorageName,
    Str,
    StrictBool,
    Text,
)


class DocumentSchema(Schema):
    drop_unset: ClassVar[bool] = True  # leave unset optional values out of exported documents

    @post_dump
    def _drop_unset(self, data: dict[str, Any], **kwargs) -> dict[str, Any]:
        if not self.drop_unset:
            return data
        return {k: v for k, v in data.items() if v is not None and v != {}}


def _enum(enum: type, **kwargs) -> fields.Enum:
    return fields.Enum(enum, by_value=True, **kwargs)


class StorageItemSchema(DocumentSchema):
    name = StorageName(required=True, metadata={"description": "Exact name, or a pattern such as `_ga_*`."})
    type = _enum(sc.StorageType)
    domain = Str(validate=validate.Length(min=1, max=253), allow_none=True)
    duration = Duration(metadata={"example": "13 months"})
    party = _enum(sc.Party)
    purpose = LocalizedText()


class VendorSchema(DocumentSchema):
    key = Key(required=True)
    name = Text(200, required=True)
    category = Key(required=True, metadata={"description": "Key of the category the vendor belongs to."})
    privacy_policy_url = HttpUrl(allow_none=True)
    description = LocalizedText()
    cookies = fields.List(fields.Nested(StorageItemSchema), validate=validate.Length(max=200))


class CategorySchema(DocumentSchema):
    key = Key(required=True)
    purpose = _enum(sc.Purpose, required=True)
    name = LocalizedText(200, min_languages=1, required=True)
    description = LocalizedText()
    sale_or_sharing = StrictBool(
        allow_none=True,
        metadata={
            "description": "Whether refusing a sale or sharing (GPC, 'Do Not Sell') switches it off. "
            "Unset: yes for marketing and social categories."
        },
    )


_LABEL = dict(validate=validate.Length(min=1, max=200), allow_none=True)


class BannerWordsSchema(DocumentSchema):
    """The words of a banner, shared by a text and the variants that override some of them."""

    title = Text(200, required=True)
    body = Text(4000, required=True)
    accept_all = Str(**_LABEL)
    reject_all = Str(**_LABEL)
    preferences = Str(**_LABEL)
    save = Str(**_LABEL)
    close = Str(**_LABEL)
    do_not_sell = Str(**_LABEL)
    preferences_title = Str(**_LABEL)
    preferences_body = Str(validate=validate.Length(min=1, max=4000), allow_none=True)
    gpc_honored = Str(validate=validate.Length(min=1, max=1000), allow_none=True)
    privacy_policy_url = HttpUrl(allow_none=True)
    cookie_policy_url = HttpUrl(allow_none=True)


class BannerTextSchema(BannerWordsSchema):
    language = LanguageTag(required=True)
    variants = fields.Dict(
        keys=Key(),
        values=fields.Nested(BannerWordsSchema(partial=True), validate=validate.Length(min=1)),
        validate=validate.Length(max=20),
        metadata={
            "description": "Named sets of overrides a regional rule selects with `text_variant`; a variant "
            "named after a consent model (`opt_in`, `opt_out`) is shown where the law raises a rule to it."
        },
    )


class FirstLayerSchema(DocumentSchema):
    buttons = fields.List(_enum(sc.Button), required=True, validate=validate.Length(min=1, max=4))
    links = fields.List(_enum(sc.Link), validate=validate.Length(max=3))

    @validates_schema
    def _no_repeats(self, data: dict[str, Any], **kwargs) -> None:
        for name in ("buttons", "links"):
            values = data.get(name, [])
            if len(set(values)) != len(values):
                raise ValidationError("listed twice", name)


class RegionalRuleSchema(DocumentSchema):
    key = Key(required=True)
    name = Str(validate=validate.Length(min=1, max=200), allow_none=True)
    regions = fields.List(RegionEntry(), required=True, validate=validate.Length(min=1, max=300))
    model = _enum(sc.ConsentModel, required=True)
    first_layer = fields.Nested(FirstLayerSchema, required=True)
    defaults = fields.Dict(
        keys=Key(),
        values=StrictBool(),
        validate=validate.Length(max=50),
        metadata={"description": "Category key -> on before any choice; overrides the model's default."},
    )
    gpc = _enum(sc.SignalTreatment)
    dnt = _enum(sc.SignalTreatment)
    implied_consent = StrictBool()
    consent_lifetime_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    refusal_lifetime_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=3650))
    text_variant = Key(allow_none=True)


class SiteSchema(DocumentSchema):
    key = Key(required=True, metadata={"description": "The public site key the snippet's `data-site` names."})
    name = Text(200, required=True)
    domains = fields.List(Domain(), required=True, validate=validate.Length(min=1, max=100))
    default_language = LanguageTag(required=True)
    default_region = RegionCode(allow_none=True)
    retention_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=36500))
    sells_or_shares = StrictBool()
    allow_region_override = StrictBool()


def Color(**kwargs) -> fields.String:
    return Str(
        validate=validate.Regexp(sc.COLOR_PATTERN, error="Use a colour as #rrggbb."),
        metadata={"example": "#1d4ed8", **kwargs.pop("metadata", {})},
        **kwargs,
    )


class ThemeSchema(DocumentSchema):
    position = _enum(sc.BannerPosition)
    background = Color()
    text = Color()
    accent = Color(metadata={"description": "Background of every button (Accept and Reject look the same)."})
    accent_text = Color(metadata={"description": "Label colour on the buttons."})


class ConsentModeSchema(DocumentSchema):
    enabled = StrictBool(metadata={"description": "Send Google Consent Mode v2 `default` and `update` commands."})
    types = fields.Dict(
        keys=Key(),
        values=fields.List(_enum(sc.ConsentType), validate=validate.Length(max=7)),
        validate=validate.Length(max=50),
        metadata={
            "description": "Category key -> the consent types it grants. Unset categories follow their purpose: "
            "analytics -> analytics_storage; marketing -> ad_storage, ad_user_data, ad_personalization; "
            "preferences -> functionality_storage, personalization_storage; necessary -> security_storage."
        },
    )
    ads_data_redaction = StrictBool()
    url_passthrough = StrictBool()
    advanced = StrictBool(
        metadata={"description": "Advanced mode: Google tags marked `data-consent-mode` load before a choice."}
    )


class SnippetSchema(DocumentSchema):
    """What the snippet does on the owner's pages: the banner's look, Consent Mode, what an opt-out triggers."""

    theme = fields.Nested(ThemeSchema)
    consent_mode = fields.Nested(ConsentModeSchema)
    reload_on_opt_out = StrictBool(
        metadata={"description": "Reload the page after a refusal, so that tags which already ran are unloaded."}
    )
    reopen_button = StrictBool(metadata={"description": "Show the floating button that reopens the preferences."})


class SiteConfigSchema(DocumentSchema):
    """A whole site configuration: what a configuration file holds and what publishing freezes."""

    format = fields.Integer(strict=True, validate=validate.Equal(sc.FORMAT_VERSION), dump_default=sc.FORMAT_VERSION)
    site = fields.Nested(SiteSchema, required=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True, validate=validate.Length(min=1, max=50))
    vendors = fields.List(fields.Nested(VendorSchema), load_default=list, validate=validate.Length(max=500))
    texts = fields.List(fields.Nested(BannerTextSchema), required=True, validate=validate.Length(min=1, max=60))
    rules = fields.List(fields.Nested(RegionalRuleSchema), required=True, validate=validate.Length(min=1, max=50))
    snippet = fields.Nested(SnippetSchema, load_default=dict)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs) -> None:
        raise_problems(sc.problems(build(data)))


def raise_problems(problems: list[sc.Problem]) -> None:
    """Raise the core's consistency problems as a marshmallow error naming each field."""
    if not problems:
        return
    errors: dict[str | int, Any] = {}
    for path, message in problems:
        node = errors
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1], []).append(message)
    raise ValidationError(errors)


def build(data: dict[str, Any]) -> sc.SiteConfig:
    """A loaded document as the core's configuration value."""
    return sc.SiteConfig(
        site=build_site(data["site"]),
        categories=tuple(build_category(c) for c in data["categories"]),
        vendors=tuple(build_vendor(v) for v in data.get("vendors", ())),
        texts=tuple(build_text(t) for t in data["texts"]),
        rules=tuple(build_rule(r) for r in data["rules"]),
        snippet=build_snippet(data.get("snippet", {})),
    )


def build_site(data: dict[str, Any]) -> sc.Site:
    return sc.Site(**{**data, "domains": tuple(data["domains"])})


def build_category(data: dict[str, Any]) -> sc.Category:
    return sc.Category(**data)


def build_vendor(data: dict[str, Any]) -> sc.Vendor:
    return sc.Vendor(**{**data, "cookies": tuple(sc.StorageItem(**c) for c in data.get("cookies", ()))})


def build_text(data: dict[str, Any]) -> sc.BannerText:
    return sc.BannerText(**data)


def build_rule(data: dict[str, Any]) -> sc.RegionalRule:
    layer = data["first_layer"]
    first_layer = sc.FirstLayer(
        buttons=tuple(layer["buttons"]),
        **({"links": tuple(layer["links"])} if "links" in layer else {}),
    )
    return sc.RegionalRule(**{**data, "regions": tuple(data["regions"]), "first_layer": first_layer})


def build_snippet(data: dict[str, Any]) -> sc.SnippetOptions:
    mode = dict(data.get("consent_mode", {}))
    mode["types"] = {key: tuple(types) for key, types in mode.get("types", {}).items()}
    return sc.SnippetOptions(
        **{k: v for k, v in data.items() if k not in ("theme", "consent_mode")},
        theme=sc.Theme(**data.get("theme", {})),
        consent_mode=sc.ConsentMode(**mode),
    )


def document(config: sc.SiteConfig) -> dict[str, Any]:
    """The JSON document of a configuration: what is exported, published and hashed."""
    return SiteConfigSchema().dump(config)
