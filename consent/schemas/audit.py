"""What auditors ask for (a period, filters, a format) and what the consent-rate report and impressions answer."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..core.exports import METHODS, ExportFilter, parse_category_state
from ..core.siteconfig import KEY_PATTERN
from .decisions import CONSENT_ID, HASH
from .fields import RegionCode, Str

MOMENT = (
    r"^\d{4}-\d{2}-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$"
)
_MOMENT = re.compile(MOMENT)
CATEGORY_STATE = rf"^{KEY_PATTERN.pattern[1:-1]}[=:](granted|refused)$"
_CATEGORY_STATE = re.compile(CATEGORY_STATE)


class Moment(Str):
    """A day (``2026-11-01``, its start in UTC) or an RFC 3339 time (``2026-11-01T09:30:00Z``; without a zone,
    UTC)."""

    def __init__(self, **kwargs):
        metadata = {
            "pattern": MOMENT,
            "description": "A day (`2026-11-01`, from 00:00 UTC) or a time (`2026-11-01T09:30:00Z`; UTC if no zone).",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _MOMENT.match(text):
            raise ValidationError("Write a day (2026-11-01) or an RFC 3339 time (2026-11-01T09:30:00Z).")
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), time(), UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValidationError("Not a valid day or time.") from None
        if not 1970 <= moment.year <= 9999:
            raise ValidationError("Choose a time between the years 1970 and 9999.")
        return moment


class PeriodQuerySchema(Schema):
    since = Moment(metadata={"description": "From this time on (inclusive). Default: the log's beginning."})
    until = Moment(metadata={"description": "Before this time (exclusive). Default: now."})

    @validates_schema
    def _since_before_until(self, data, **kwargs):
        if "since" in data and "until" in data and data["since"] >= data["until"]:
            raise ValidationError("must be later than 'since'", "until")


def _personal(description: str) -> fields.Boolean:
    return fields.Boolean(
        load_default=True,
        truthy={"true", "1"},
        falsy={"false", "0"},
        metadata={"description": description},
    )


class CategoryState(Str):
    """``analytics=granted``: a category and the state its choice must have."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": CATEGORY_STATE}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[str, bool]:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _CATEGORY_STATE.match(text):
            raise ValidationError("Write a category and a state: 'analytics=granted'.")
        try:
            return parse_category_state(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class ExportQuerySchema(PeriodQuerySchema):
    format = fields.String(
        required=True,
        validate=validate.OneOf(["csv", "ndjson"]),
        metadata={"description": "`csv` to read in a spreadsheet, `ndjson` to re-hash the records."},
    )
    consent_id = Str(validate=validate.Regexp(CONSENT_ID), metadata={"description": "Only this visitor's records."})
    region = fields.List(
        RegionCode(),
        validate=validate.Length(max=50),
        metadata={"description": "Only records made in these regions (a country includes its subdivisions)."},
    )
    method = fields.List(
        fields.String(validate=validate.OneOf(METHODS)),
        validate=validate.Length(max=len(METHODS)),
        metadata={"description": "Only records made this way (any of them)."},
    )
    category = fields.List(
        CategoryState(),
        validate=validate.Length(max=50),
        metadata={"description": "Only records where the category has this state (all of them): `analytics:granted`."},
    )
    personal = _personal("Include the records' personal data (IP, browser, OS, device, page). Default: true.")


def export_filter(query: dict) -> ExportFilter:
    """The filter an export query (loaded by :class:`ExportQuerySchema`) describes."""
    return ExportFilter(
        since=query.get("since"),
        until=query.get("until"),
        consent_id=query.get("consent_id"),
        regions=tuple(query.get("region", ())),
        methods=tuple(query.get("method", ())),
        categories=tuple(query.get("category", ())),
    )


class BundleQuerySchema(PeriodQuerySchema):
    personal = _personal("Include the records' personal data and their salts. Default: true.")


class ReportQuerySchema(PeriodQuerySchema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "csv", "html"]),
        metadata={"description": "`json` (default), `csv`, or `html`: a page with charts."},
    )


# --- impressions -----------------------------------------------------------------------------------------------


class ImpressionSchema(Schema):
    version = Str(required=True, validate=validate.Regexp(HASH), metadata={"description": "Hash of the version shown."})
    region = RegionCode(metadata={"description": "For testing: the region to count, where the override is allowed."})


class ImpressionAnswerSchema(Schema):
    counted = fields.Boolean(metadata={"description": "False for a bot: nothing is counted."})
    reason = fields.String(metadata={"description": "Why nothing was counted."})


# --- the consent-rate report -----------------------------------------------------------------------------------


class OutcomesSchema(Schema):
    impressions = fields.Integer(metadata={"description": "Banners shown (counted without any identifier)."})
    decisions = fields.Integer(metadata={"description": "Records of every method."})
    accept_all = fields.Integer()
    reject_all = fields.Integer()
    custom = fields.Integer()
    withdrawal = fields.Integer()
    gpc = fields.Integer()
    dnt = fields.Integer()
    implied = fields.Integer()
    renewal = fields.Integer()
    no_action = fields.Integer(
        metadata={"description": "Impressions minus first-layer and preference-center answers; an approximation."}
    )


class _Keyed(OutcomesSchema):
    key = fields.String(metadata={"description": "The day, region code, or version hash."})


class _VersionOutcomes(_Keyed):
    number = fields.Integer(allow_none=True, metadata={"description": "The version's number, if the site has it."})


class _CategoryRate(Schema):
    key = fields.String()
    granted = fields.Integer()
    refused = fields.Integer()
    granted_rate = fields.Float(allow_none=True, metadata={"description": "granted / (granted + refused)."})


class ConsentRateReportSchema(Schema):
    site = fields.String()
    since = fields.String(metadata={"description": "RFC 3339, inclusive."})
    until = fields.String(metadata={"description": "RFC 3339, exclusive."})
    totals = fields.Nested(OutcomesSchema)
    by_day = fields.List(fields.Nested(_Keyed), metadata={"description": "UTC days, oldest first."})
    by_region = fields.List(fields.Nested(_Keyed), metadata={"description": "Most impressions first."})
    by_version = fields.List(fields.Nested(_VersionOutcomes), metadata={"description": "Newest version first."})
    by_category = fields.List(fields.Nested(_CategoryRate))
