"""Field types shared by every schema: strict booleans, keys, language tags, region codes, domains."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from ..core import regions
from ..core.siteconfig import DURATION_PATTERN, KEY_PATTERN, LANGUAGE_PATTERN, STORAGE_NAME_PATTERN

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Str(fields.String):
    """Text, without the NUL characters and unpaired surrogates that JSON can carry but no database stores."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise ValidationError("Contains a NUL character or an unpaired surrogate.")
        return text


class StrictBool(fields.Boolean):
    """A JSON boolean, nothing else: marshmallow's Boolean also takes "yes", 1 or "off", which hides mistakes
    in a consent configuration."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Key(**kwargs) -> fields.String:
    return Str(
        validate=validate.Regexp(KEY_PATTERN, error="Use 1 to 63 lower-case letters, digits, '-' or '_'."),
        metadata={"pattern": KEY_PATTERN.pattern, **kwargs.pop("metadata", {})},
        **kwargs,
    )


def LanguageTag(**kwargs) -> fields.String:
    return Str(
        validate=[
            validate.Length(max=35),
            validate.Regexp(LANGUAGE_PATTERN, error="Not a BCP 47 language tag such as 'en' or 'pt-BR'."),
        ],
        **kwargs,
    )


def Text(max_length: int, **kwargs) -> fields.String:
    return Str(validate=validate.Length(min=1, max=max_length), **kwargs)


def LocalizedText(max_length: int = 2000, *, min_languages: int = 0, **kwargs) -> fields.Dict:
    """``{"en": "...", "fr": "..."}``"""
    return fields.Dict(
        keys=LanguageTag(),
        values=Text(max_length),
        validate=validate.Length(min=min_languages, max=60),
        **kwargs,
    )


def HttpUrl(**kwargs) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2000), **kwargs)


def Duration(**kwargs) -> fields.String:
    return Str(
        validate=validate.Regexp(
            DURATION_PATTERN, error="Use 'session', 'persistent' or a number and a unit, as in '13 months'."
        ),
        **kwargs,
    )


def StorageName(**kwargs) -> fields.String:
    return Str(
        validate=validate.Regexp(
            STORAGE_NAME_PATTERN, error="Not a cookie or storage name; '*' matches any run of characters."
        ),
        **kwargs,
    )


class _Documented(Str):
    """A string field whose OpenAPI description carries a pattern (its validation goes further)."""

    pattern: str = ""
    description: str = ""

    def __init__(self, **kwargs):
        metadata = {"pattern": self.pattern, "description": self.description, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


class RegionEntry(_Documented):
    """An ISO 3166-1 country, an ISO 3166-2 subdivision, a named group (``EEA``) or ``*``."""

    pattern = r"^(\*|[A-Z]{2}|[A-Z]{2}-[A-Z0-9]{1,3}|" + "|".join(sorted(regions.GROUPS)) + ")$"
    description = (
        "An ISO 3166-1 country (`FR`), an ISO 3166-2 subdivision (`US-CA`), a named group ("
        + ", ".join(f"`{name}`" for name in sorted(regions.GROUPS))
        + ") or `*` for everywhere."
    )

    def _deserialize(self, value, attr, data, **kwargs):
        entry = super()._deserialize(value, attr, data, **kwargs)
        reason = regions.validate_entry(entry)
        if reason:
            raise ValidationError(reason)
        return entry


class RegionCode(_Documented):
    """A concrete ISO 3166-1 country or ISO 3166-2 subdivision code."""

    pattern = r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$"
    description = "An ISO 3166-1 country (`BE`) or ISO 3166-2 subdivision (`US-CA`) code."

    def _deserialize(self, value, attr, data, **kwargs):
        code = super()._deserialize(value, attr, data, **kwargs)
        try:
            return regions.Region.parse(code).code
        except ValueError as error:
            raise ValidationError(str(error)) from None


_HOST = re.compile(
    r"^(\*\.)?(?=.{1,253}(:|$))([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$"
)


class Domain(_Documented):
    """A host a site's pages are served from: ``example.com``, ``*.example.com`` or ``localhost:8000``."""

    pattern = r"^(\*\.)?([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}(:[0-9]{1,5})?$"  # the validator is stricter
    description = "A host the site's pages are served from: `example.com`, `*.example.com` or `localhost:8000`."

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=260), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        host = super()._deserialize(value, attr, data, **kwargs).strip().lower().rstrip(".")
        if not _HOST.match(host):
            raise ValidationError("Not a host name: use 'example.com', '*.example.com' or 'localhost:8000'.")
        return host
