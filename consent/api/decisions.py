"""Public consent endpoints: record a visitor's decision, show a visitor their own history, and let anyone check
the log (checkpoints, inclusion and consistency proofs, the public keys).

Decisions are accepted from the site's own pages only (CORS and the Origin header), rate-limited per visitor
address and site, never recorded for bots, and answered with a signed receipt.
"""

from __future__ import annotations

import hmac
import json
import re

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import logbook, metrics, publishing, recording
from ..availability import RETRY_AFTER_SECONDS
from ..core import decisions as rules_of_decisions
from ..core import merkle, rules
from ..core.records import Signals, format_time
from ..extensions import db
from ..models import ConsentSubject, DecisionKey, Record, Site
from ..schemas.decisions import (
    CONSENT_ID,
    CheckpointSchema,
    ConsistencyQuerySchema,
    ConsistencySchema,
    DecisionAnswerSchema,
    DecisionSchema,
    HistorySchema,
    InclusionSchema,
    KeySetSchema,
)
from ..schemas.site import raise_problems
from .visitors import allow_site_pages, allows_origin, locate

blp = Blueprint(
    "decisions",
    __name__,
    url_prefix="/api/v1",
    description="Public: record decisions, read your own history, and verify the consent logs.",
)
SECRET_HEADER = "X-Consent-Secret"
STORE_ATTEMPTS = 3  # a record's key or a consent ID drawn twice: draw again
CONSENT_ID_PATTERN = re.compile(CONSENT_ID)


def _site_config(site_key: str):
    live = current_app.extensions["cmp.live"].get(site_key)
    if live is None:
        abort(404, message=f"No published site {site_key!r}.")
    return live.config


allow_site_pages(blp, methods="GET, POST", headers=f"Content-Type, {SECRET_HEADER}")


def _within_rate_limit(site_key: str) -> None:
    """Decisions per visitor address and site (``CMP_RATE_LIMIT``); over it, 429 with Retry-After."""
    verdict = current_app.extensions["cmp.decision_limit"].hit(request.remote_addr or "unknown", site_key)
    if not verdict.allowed:
        metrics.RATE_LIMITED.labels("decisions").inc()
        abort(
            429,
            message=f"Too many decisions from this address for this site ({verdict.limit}); retry later.",
            headers={"Retry-After": str(verdict.retry_after)},
        )


@blp.route("/decisions/<site_key>")
class Decisions(MethodView):
    @blp.doc(
        summary="Record a visitor's decision",
        description="Answers with a signed receipt (a compact JWS). A first decision gets a consent ID and a "
        "secret; later ones send both back. Bots are answered `recorded: false` and nothing is stored.",
    )
    @blp.arguments(DecisionSchema)
    @blp.response(201, DecisionAnswerSchema)
    @blp.alt_response(200, schema=DecisionAnswerSchema, description="A bot: nothing recorded.")
    def post(self, data, site_key):
        _within_rate_limit(site_key)
        origin = request.headers.get("Origin")
        if origin and not allows_origin(_site_config(site_key), origin):
            abort(403, message="Decisions are accepted from the site's own pages only.")
        return take_decision(site_key, data)


def take_decision(site_key: str, data: dict) -> tuple[dict, int]:
    """Record a visitor's decision (``data`` as :class:`DecisionSchema` loads it) from the request under way:
    the snippet's post, or a form of the hosted preference center. Returns the answer and its status."""
    settings = current_app.config["CMP_SETTINGS"]
    device = recording.classify(request.user_agent.string)
    if device.bot:
        metrics.BOTS.labels(site_key).inc()
        return {"recorded": False, "reason": "bot"}, 200
    if not current_app.extensions["cmp.database"].open:
        abort(503, message="The database failed a moment ago; send the decision again later.",
              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})  # fmt: skip

    version = publishing.published(site_key, data["version"])
    if version is None:
        if current_app.extensions["cmp.live"].get(site_key) is None:
            abort(404, message=f"No published site {site_key!r}.")
        abort(422, errors={"json": {"version": ["not a version this site has published"]}})
    config = version.config
    if data["language"] not in config.languages:
        abort(422, errors={"json": {"language": [f"the version has no banner in {data['language']!r}"]}})

    location = locate(config, data.get("region"), field=("json", "region"))
    served = rules.serve(config, rules.select(config.rules, location.region), location.region)
    signals = Signals(
        sec_gpc=request.headers.get("Sec-GPC") == "1",
        gpc=data["signals"]["gpc"],
        dnt=data["signals"]["dnt"] or request.headers.get("DNT") == "1",
    )
    try:
        raise_problems(rules_of_decisions.problems(data["choices"], data["method"], signals, config, served))
    except ValidationError as error:
        abort(422, errors={"json": error.messages}, message="The decision does not fit the banner shown.")

    if "consent_id" in data:
        _check_secret(data["consent_id"], data["secret"], version.site_id)

    keyring = current_app.extensions["cmp.keys"]
    decision = recording.Decision(
        version=data["version"],
        language=data["language"],
        choices=data["choices"],
        method=data["method"],
        signals=signals,
        layer=data.get("layer"),
        control=data.get("control"),
        page_url=data.get("page_url"),
    )
    for attempt in range(1, STORE_ATTEMPTS + 1):
        if "consent_id" in data:
            consent_id, secret = data["consent_id"], None
        else:
            consent_id, secret = recording.new_subject(version.site_id, settings.secret_key)
        try:
            recorded = recording.record_decision(
                site_id=version.site_id,
                site_key=site_key,
                consent_id=consent_id,
                decision=decision,
                rule=served,
                location=location,
                device=device,
                ip=recording.stored_ip(request.remote_addr, settings),
                key=keyring.current,
                issuer=settings.public_url,
                secret=secret,
                decision_key=data.get("decision_key"),
            )
            db.session.commit()
            break
        except IntegrityError:
            db.session.rollback()
            # A decision key stored before: a retry of a decision whose answer was lost (or a concurrent retry a
            # moment ago). Answer with that record. Found by the insert, not looked up first: retries are rare.
            if "decision_key" in data and (replay := _stored_answer(data, version.site_id)) is not None:
                return replay, 200
            # Otherwise a new key drawn twice (a record's key in the same millisecond, a consent ID): draw again.
            current_app.logger.warning("decision not stored (attempt %s): %s", attempt, "integrity conflict")
    else:
        abort(503, message="The decision could not be stored; send it again.", headers={"Retry-After": "1"})
    metrics.DECISIONS.labels(site_key, data["method"].value).inc()
    _sequence_in_the_background()
    answer = {
        "recorded": True,
        "record_id": recorded.value.record_id,
        "consent_id": consent_id,
        "time": format_time(recorded.value.time),
        "record_hash": recorded.record_hash,
        "receipt": recorded.receipt,
    }
    if secret:
        answer["secret"] = secret
    return answer, 201


def _check_secret(consent_id: str, secret: str, site_id: int) -> None:
    subject = db.session.get(ConsentSubject, consent_id)
    if (
        subject is None
        or subject.site_id != site_id
        or not hmac.compare_digest(subject.secret_hash, recording.secret_digest(secret))
    ):
        abort(403, message="Unknown consent ID, or a wrong secret.")


def _stored_answer(data: dict, site_id: int) -> dict | None:
    """The answer already given to this decision key, when the browser retries a decision that was stored (its
    first answer lost on the way); None for a key never seen."""
    stored = db.session.get(DecisionKey, recording.key_digest(data["decision_key"]))
    if stored is None:
        return None
    row = db.session.get(Record, stored.record_pk)
    if stored.site_id != site_id or row is None:
        abort(409, errors={"json": {"decision_key": ["already used for another decision"]}})
    if "consent_id" in data:
        if data["consent_id"] != row.consent_id:
            abort(409, errors={"json": {"decision_key": ["already used for another visitor's decision"]}})
        _check_secret(row.consent_id, data["secret"], site_id)
    answer = {
        "recorded": True,
        "replayed": True,
        "record_id": row.record_id,
        "consent_id": row.consent_id,
        "time": format_time(row.time),
        "record_hash": merkle.leaf_hash(row.document.encode()).hex(),
        "receipt": row.receipt,
    }
    if "consent_id" not in data:  # a first decision: its answer carried the secret
        answer["secret"] = recording.subject_secret(row.consent_id, current_app.config["CMP_SETTINGS"].secret_key)
    return answer


def _sequence_in_the_background() -> None:
    """This process records decisions: it also sequences them into their logs and signs checkpoints."""
    if (sequencer := current_app.extensions["cmp.sequencer"]) is not None:
        sequencer.ensure_running()


def stored_decision(row: Record) -> dict:
    canonical = row.document.encode()
    return {
        "record_id": row.record_id,
        "record_hash": merkle.leaf_hash(canonical).hex(),
        "receipt": row.receipt,
        "document": json.loads(canonical),
    }


@blp.route("/decisions/<site_key>/<consent_id>")
class History(MethodView):
    @blp.doc(
        summary="A visitor's current choices and the history of their decisions, with receipts",
        description=f"Needs the visitor's secret in the `{SECRET_HEADER}` header: the consent ID alone, which "
        "appears in logs, reveals nothing.",
        parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}],
    )
    @blp.response(200, HistorySchema)
    def get(self, site_key, consent_id):
        secret = request.headers.get(SECRET_HEADER, "")
        subject = db.session.get(ConsentSubject, consent_id) if CONSENT_ID_PATTERN.fullmatch(consent_id) else None
        site = db.session.scalar(select(Site).where(Site.key == site_key))
        if (
            subject is None
            or site is None
            or subject.site_id != site.id
            or not hmac.compare_digest(subject.secret_hash, recording.secret_digest(secret))
        ):
            abort(403, message="Unknown consent ID, or a wrong secret.")
        rows = db.session.scalars(
            select(Record)
            .where(Record.site_id == site.id, Record.consent_id == consent_id)
            .order_by(Record.time.desc(), Record.id.desc())
        ).all()
        history = [decision for decision in map(stored_decision, rows) if decision["document"]["consent"] == consent_id]
        return {
            "site": site_key,
            "consent_id": consent_id,
            "current": history[0] if history else None,
            "history": history,
        }


def checkpoint_json(checkpoint) -> dict:
    return {
        "size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "key_id": checkpoint.key_id,
        "created_at": checkpoint.created_at,
        "note": checkpoint.note,
    }


@blp.route("/records/<record_id>/proof")
class Proof(MethodView):
    @blp.doc(summary="Proof that a record is in its site's log, under the latest signed checkpoint")
    @blp.response(200, InclusionSchema)
    @blp.alt_response(202, schema=InclusionSchema, description="Logged, but no checkpoint covers it yet.")
    def get(self, record_id):
        found = logbook.inclusion_proof(record_id)
        if found is None:
            abort(404, message=f"No record {record_id!r} in any log (it may still be queued: retry shortly).")
        if isinstance(found, logbook.InclusionProof):
            return {
                "record_id": record_id,
                "covered": True,
                "position": found.position,
                "leaf_hash": found.leaf_hash,
                "proof": found.proof,
                "checkpoint": checkpoint_json(found.checkpoint),
            }
        return {"record_id": record_id, "covered": False, "position": found.seq, "leaf_hash": found.leaf_hash}, 202


def _site_id(site_key: str) -> int:
    site_id = db.session.scalar(select(Site.id).where(Site.key == site_key))
    if site_id is None:
        abort(404, message=f"No site {site_key!r}.")
    return site_id


@blp.route("/logs/<site_key>/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.doc(summary="The latest signed checkpoint of a site's consent log")
    @blp.response(200, CheckpointSchema)
    def get(self, site_key):
        checkpoint = logbook.latest_checkpoint(_site_id(site_key))
        if checkpoint is None:
            abort(404, message=f"Site {site_key!r} has no checkpoint yet.")
        return checkpoint_json(checkpoint)


@blp.route("/logs/<site_key>/consistency")
class Consistency(MethodView):
    @blp.doc(summary="Proof that the log at one size extends the log at a smaller size (nothing rewritten)")
    @blp.arguments(ConsistencyQuerySchema, location="query")
    @blp.response(200, ConsistencySchema)
    def get(self, query, site_key):
        site_id = _site_id(site_key)
        latest = logbook.latest_checkpoint(site_id)
        new_size = query.get("new_size") or (latest.tree_size if latest else 0)
        if latest is None or not 0 < query["old_size"] <= new_size <= latest.tree_size:
            abort(422, errors={"query": {"from": ["sizes must satisfy 0 < from <= to <= the latest checkpoint"]}})
        proof = logbook.consistency_proof(site_id, query["old_size"], new_size)
        return {"old_size": query["old_size"], "new_size": new_size, "proof": proof}


keys_blp = Blueprint("keys", __name__, description="Public: the keys that sign receipts and checkpoints.")


@keys_blp.route("/.well-known/consent-keys.json")
class PublishedKeys(MethodView):
    @keys_blp.doc(summary="Every public key that signs or ever signed receipts and checkpoints (a JWK Set)")
    @keys_blp.response(200, KeySetSchema)
    def get(self):
        keys = current_app.extensions["cmp.keys"].public_keys()
        return (
            {"keys": [{**key.jwk(), "note_key": key.note_verifier} for key in keys]},
            200,
            {
                "Cache-Control": "public, max-age=3600",
                "Access-Control-Allow-Origin": "*",
            },
        )
