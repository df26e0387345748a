"""What the snippet posts when a visitor decides, and what the public consent endpoints answer."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..core.records import Method
from .fields import Key, LanguageTag, RegionCode, Str, StrictBool

CONSENT_ID = r"^[A-Za-z0-9_-]{22}$"
SECRET = r"^[A-Za-z0-9_-]{43}$"
HASH = r"^[0-9a-f]{64}$"
DECISION_KEY = r"^[A-Za-z0-9_-]{22,64}$"


class SignalsSchema(Schema):
    gpc = StrictBool(load_default=False, metadata={"description": "`navigator.globalPrivacyControl`"})
    dnt = StrictBool(load_default=False, metadata={"description": "`navigator.doNotTrack == '1'`"})


class DecisionSchema(Schema):
    consent_id = Str(
        validate=validate.Regexp(CONSENT_ID),
        metadata={
            "description": "The visitor's consent ID, from their first decision's answer; omit on a first decision."
        },
    )
    secret = Str(
        validate=validate.Regexp(SECRET),
        metadata={"description": "The secret that came with the consent ID; required with it."},
    )
    decision_key = Str(
        validate=validate.Regexp(DECISION_KEY),
        metadata={
            "description": "A random key (at least 128 bits, base64url) the browser makes for this decision and sends "
            "again with every retry of it: a retry of a stored decision is answered with the stored record instead "
            "of a second one. Keep it secret: it obtains the answer, the consent ID's secret included."
        },
    )
    version = Str(required=True, validate=validate.Regexp(HASH), metadata={"description": "Hash of the version shown."})
    language = LanguageTag(required=True, metadata={"description": "The language the banner was shown in."})
    choices = fields.Dict(
        keys=Key(),
        values=StrictBool(),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Every category of the version: granted (true) or refused (false)."},
    )
    method = fields.Enum(Method, by_value=True, required=True)
    layer = fields.Integer(strict=True, validate=validate.Range(min=1, max=2), allow_none=True)
    control = Key(allow_none=True, metadata={"description": "The control used, e.g. `reject_all`."})
    page_url = fields.Url(
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2000),
        allow_none=True,
        metadata={"description": "The page; its query string and fragment are not kept."},
    )
    signals = fields.Nested(SignalsSchema, load_default=lambda: {"gpc": False, "dnt": False})
    region = RegionCode(metadata={"description": "For testing: the region to record, where the override is allowed."})

    @validates_schema
    def _id_with_secret(self, data, **kwargs):
        if ("consent_id" in data) != ("secret" in data):
            raise ValidationError(
                "a consent ID and its secret go together", "secret" if "consent_id" in data else "consent_id"
            )


class DecisionAnswerSchema(Schema):
    recorded = fields.Boolean(metadata={"description": "False for a bot: nothing is stored."})
    replayed = fields.Boolean(
        metadata={"description": "True when this answers a retry of a decision already stored (same decision key)."}
    )
    reason = fields.String(metadata={"description": "Why nothing was recorded."})
    record_id = fields.String()
    consent_id = fields.String()
    secret = fields.String(metadata={"description": "On a first decision only: keep it, it proves the consent ID."})
    time = fields.String()
    record_hash = fields.String(metadata={"description": "Hex SHA-256 leaf hash of the record's canonical form."})
    receipt = fields.String(metadata={"description": "The signed receipt: a compact JWS (EdDSA)."})


class _RecordedRegion(Schema):
    country = fields.String(allow_none=True)
    subdivision = fields.String(allow_none=True)
    source = fields.String()


class _AppliedRule(Schema):
    key = fields.String()
    law = fields.String()
    model = fields.String()


class _RecordedSignals(Schema):
    sec_gpc = fields.Boolean()
    gpc = fields.Boolean()
    dnt = fields.Boolean()


class RecordDocumentSchema(Schema):
    """A consent record as hashed into the log (docs/auditors.md): no personal data, only their digest."""

    format = fields.Integer()
    record = fields.String()
    site = fields.String()
    consent = fields.String()
    time = fields.String()
    version = fields.String()
    language = fields.String()
    choices = fields.Dict(keys=fields.String(), values=fields.Boolean())
    method = fields.String()
    layer = fields.Integer(allow_none=True)
    control = fields.String(allow_none=True)
    region = fields.Nested(_RecordedRegion)
    rule = fields.Nested(_AppliedRule)
    signals = fields.Nested(_RecordedSignals)
    personal = fields.String(metadata={"description": "Salted SHA-256 digest of the record's personal data."})


class StoredDecisionSchema(Schema):
    record_id = fields.String()
    record_hash = fields.String(metadata={"description": "SHA-256(0x00 || canonical form of `document`)."})
    receipt = fields.String()
    document = fields.Nested(RecordDocumentSchema)


class HistorySchema(Schema):
    site = fields.String()
    consent_id = fields.String()
    current = fields.Nested(StoredDecisionSchema, allow_none=True, metadata={"description": "The latest decision."})
    history = fields.List(fields.Nested(StoredDecisionSchema), metadata={"description": "Newest first."})


class CheckpointSchema(Schema):
    size = fields.Integer()
    root_hash = fields.String()
    key_id = fields.String()
    created_at = fields.DateTime()
    note = fields.String(metadata={"description": "The checkpoint as a C2SP signed note."})


class InclusionSchema(Schema):
    record_id = fields.String()
    covered = fields.Boolean(metadata={"description": "False until a checkpoint covers the record."})
    position = fields.Integer()
    leaf_hash = fields.String()
    proof = fields.List(fields.String(), metadata={"description": "Hex audit path (RFC 6962 / RFC 9162)."})
    checkpoint = fields.Nested(CheckpointSchema)


class ConsistencySchema(Schema):
    old_size = fields.Integer(data_key="from")
    new_size = fields.Integer(data_key="to")
    proof = fields.List(fields.String())


class ConsistencyQuerySchema(Schema):
    old_size = fields.Integer(data_key="from", required=True, strict=False, validate=validate.Range(min=1, max=2**53))
    new_size = fields.Integer(data_key="to", strict=False, validate=validate.Range(min=1, max=2**53))


class PublicKeySchema(Schema):
    kty = fields.String()
    crv = fields.String()
    x = fields.String()
    kid = fields.String()
    alg = fields.String()
    use = fields.String()
    note_key = fields.String(metadata={"description": "The key as signed-note tools take it."})


class KeySetSchema(Schema):
    keys = fields.List(fields.Nested(PublicKeySchema))
