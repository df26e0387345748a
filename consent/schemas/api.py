"""Owner API messages that are not part of a site's configuration: sites with their state, versions, warnings,
API keys, and the public banner document."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..keys import Role
from .fields import LanguageTag, Str, StrictBool
from .site import (
    BannerTextSchema,
    CategorySchema,
    RegionalRuleSchema,
    SiteConfigSchema,
    SiteSchema,
    VendorSchema,
)

__all__ = [
    "ApiKeyCreatedSchema",
    "ApiKeyInSchema",
    "ApiKeySchema",
    "BannerSchema",
    "BannerTextSchema",
    "CategorySchema",
    "PublishInSchema",
    "PublishedSchema",
    "RegionalRuleSchema",
    "SiteConfigSchema",
    "SiteSchema",
    "SiteStateSchema",
    "VendorSchema",
    "VersionSchema",
    "VersionSummarySchema",
    "WarningSchema",
]


class WarningSchema(Schema):
    code = fields.String(metadata={"example": "reject_missing"})
    rule = fields.String(metadata={"description": "Key of the regional rule concerned."})
    regions = fields.List(fields.String(), metadata={"example": ["EEA", "GB"]})
    law = fields.String(metadata={"example": "GDPR and ePrivacy Directive"})
    message = fields.String()
    field = fields.String(metadata={"description": "The rule's field the law overrides.", "example": "gpc"})
    served = fields.Raw(metadata={"description": "What visitors of those regions are served instead."})


class SiteStateSchema(SiteSchema):
    drop_unset = False
    live_version = fields.String(allow_none=True, metadata={"description": "Hash of the version visitors see."})
    live_version_number = fields.Integer(allow_none=True)
    draft_changed = fields.Boolean(metadata={"description": "Whether the draft differs from the live version."})


class PublicationSchema(Schema):
    published_at = fields.DateTime()
    note = fields.String(allow_none=True)
    notice = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    notice_days = fields.Integer(allow_none=True)


class VersionSummarySchema(Schema):
    number = fields.Integer()
    hash = fields.String(metadata={"description": "SHA-256 of the version's canonical JSON (RFC 8785)."})
    created_at = fields.DateTime()
    live = fields.Boolean()
    publications = fields.List(fields.Nested(PublicationSchema))
    warnings = fields.List(fields.Nested(WarningSchema))


class VersionSchema(VersionSummarySchema):
    document = fields.Nested(SiteConfigSchema, metadata={"description": "The configuration this version froze."})


class PublishInSchema(Schema):
    note = Str(validate=validate.Length(min=1, max=500), metadata={"description": "Why, for the history."})
    notice = fields.Dict(
        keys=LanguageTag(),
        values=Str(validate=validate.Length(min=1, max=1000)),
        validate=validate.Length(min=1, max=50),
        metadata={
            "description": "A material change: the notice returning visitors see, per language (the site's default "
            'language at least), e.g. {"en": "We updated our cookie statement on 30 November."}.'
        },
    )
    notice_days = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=365),
        metadata={"description": "How many days returning visitors see the notice (default 30)."},
    )

    @validates_schema
    def _days_with_a_notice(self, data, **kwargs):
        if "notice_days" in data and "notice" not in data:
            raise ValidationError("only with a notice", "notice_days")


class PublishedSchema(Schema):
    went_live = fields.Boolean(metadata={"description": "False when the draft was already the live version."})
    version = fields.Nested(VersionSummarySchema)


class ApiKeyInSchema(Schema):
    role = fields.Enum(Role, by_value=True, required=True)
    name = Str(required=True, validate=validate.Length(min=1, max=200))


class ApiKeySchema(Schema):
    id = fields.Integer()
    role = fields.String()
    name = fields.String()
    prefix = fields.String(metadata={"description": "The first characters of the key, to recognise it."})
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(metadata={"description": "The secret. Shown once: only its SHA-256 is stored."})


class _BannerRegion(Schema):
    country = fields.String(allow_none=True)
    subdivision = fields.String(allow_none=True)


class _BannerAdjustment(Schema):
    code = fields.String()
    field = fields.String()
    message = fields.String()


class _BannerFirstLayer(Schema):
    buttons = fields.List(fields.String())
    links = fields.List(fields.String())


class _BannerRule(Schema):
    key = fields.String()
    name = fields.String(allow_none=True)
    law = fields.String(metadata={"description": "The law whose floor was applied."})
    model = fields.String(validate=validate.OneOf(["opt_in", "opt_out", "notice"]))
    first_layer = fields.Nested(_BannerFirstLayer)
    gpc = fields.String()
    dnt = fields.String()
    implied_consent = StrictBool()
    consent_lifetime_days = fields.Integer()
    refusal_lifetime_days = fields.Integer()
    adjustments = fields.List(
        fields.Nested(_BannerAdjustment),
        metadata={"description": "Where the law of the visitor's region overrode the owner's rule."},
    )


class _BannerCookie(Schema):
    name = fields.String()
    pattern = fields.Boolean()
    type = fields.String()
    domain = fields.String(allow_none=True)
    duration = fields.String()
    party = fields.String()
    purpose = fields.String(allow_none=True)


class _BannerVendor(Schema):
    key = fields.String()
    name = fields.String()
    privacy_policy_url = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    cookies = fields.List(fields.Nested(_BannerCookie))


class _BannerCategory(Schema):
    key = fields.String()
    purpose = fields.String()
    necessary = fields.Boolean()
    sale_or_sharing = fields.Boolean()
    default = fields.Boolean(metadata={"description": "On before the visitor chooses."})
    consent_types = fields.List(
        fields.String(), metadata={"description": "Google Consent Mode types granted with this category."}
    )
    name = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    vendors = fields.List(fields.Nested(_BannerVendor))


class _BannerNotice(Schema):
    message = fields.String(metadata={"description": "The owner's words, in the banner's language."})
    published_at = fields.String(metadata={"description": "When the change was published (RFC 3339)."})
    until = fields.String(metadata={"description": "When returning visitors stop being told (RFC 3339)."})


class _BannerTheme(Schema):
    position = fields.String()
    background = fields.String()
    text = fields.String()
    accent = fields.String()
    accent_text = fields.String()


class _BannerConsentMode(Schema):
    enabled = fields.Boolean()
    ads_data_redaction = fields.Boolean()
    url_passthrough = fields.Boolean()
    advanced = fields.Boolean()


class _BannerSnippet(Schema):
    theme = fields.Nested(_BannerTheme)
    consent_mode = fields.Nested(_BannerConsentMode)
    reload_on_opt_out = fields.Boolean()
    reopen_button = fields.Boolean()


class BannerSchema(Schema):
    """The banner a visitor is served (documentation of :func:`consent.core.banner.resolve`)."""

    site = fields.String()
    version = fields.String(metadata={"description": "Hash of the published version shown."})
    language = fields.String()
    dir = fields.String(validate=validate.OneOf(["ltr", "rtl"]))
    region = fields.Nested(_BannerRegion)
    rule = fields.Nested(_BannerRule)
    texts = fields.Dict(keys=fields.String(), values=fields.String())
    notice = fields.Nested(
        _BannerNotice,
        allow_none=True,
        metadata={"description": "A material change returning visitors are told about, while it runs; else null."},
    )
    categories = fields.List(fields.Nested(_BannerCategory))
    snippet = fields.Nested(_BannerSnippet, metadata={"description": "The owner's snippet options."})
