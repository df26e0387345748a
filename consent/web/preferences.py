"""The hosted preference center: a page on the service where a visitor sees what was recorded about their choices,
changes or withdraws each purpose, opts out of sale and sharing, and downloads their receipts. It works without
JavaScript (plain forms); the snippet links to it.

A visitor is identified by their consent ID and its secret, which only their browser holds. The snippet's link
brings both once, in the query string; the page keeps them in an HttpOnly cookie of its own path and redirects to
a URL without them. Nobody else's choices are reachable: every record shown is checked to be this consent ID's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import recording
from ..api.decisions import take_decision
from ..api.visitors import allows_origin, locate
from ..core import language as lang
from ..core import merkle, rules
from ..core.records import Method
from ..core.siteconfig import ConsentModel, Link, SignalTreatment
from ..extensions import db
from ..models import ConsentSubject, PublishedVersion, Record, Site
from .declaration import chosen_language, live_or_404, page_policy, site_or_404
from .wording import words

bp = Blueprint("preferences", __name__, template_folder="templates")

COOKIE = "cmp_visitor"
COOKIE_SECONDS = 395 * 24 * 3600  # 13 months, like a consent


def _subject(site: Site, consent_id: str | None, secret: str | None) -> ConsentSubject | None:
    if not consent_id or not secret:
        return None
    subject = db.session.get(ConsentSubject, consent_id)
    if subject is None or subject.site_id != site.id:
        return None
    if not hmac.compare_digest(subject.secret_hash, recording.secret_digest(secret)):
        return None
    return subject


def _visitor(site: Site) -> tuple[str, str] | None:
    """The consent ID and secret this browser proved, from the page's own cookie."""
    consent_id, _, secret = request.cookies.get(COOKIE, "").partition(".")
    return (consent_id, secret) if _subject(site, consent_id, secret) else None


def _csrf(site_key: str, consent_id: str | None) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"preferences:{site_key}:{consent_id or '-'}".encode(), hashlib.sha256).hexdigest()


def _return_to(config) -> str | None:
    """Where "Back to the site" leads: a page of the site's own domains only."""
    target = request.values.get("return")
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not allows_origin(config, f"{parts.scheme}://{parts.netloc}"):
        return None
    return target


def _remember(response, site_key: str, consent_id: str, secret: str):
    response.set_cookie(
        COOKIE,
        f"{consent_id}.{secret}",
        max_age=COOKIE_SECONDS,
        path=url_for("preferences.page", site_key=site_key),
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


def _headers(language: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": page_policy(),
        "Content-Language": language,
        "Cache-Control": "no-store",  # a visitor's own choices: never cached
    }


@bp.get("/sites/<site_key>/preferences")
def page(site_key: str):
    site, _, config = live_or_404(site_key)
    language = chosen_language(config)
    if "consent_id" in request.args or "secret" in request.args:
        subject = _subject(site, request.args.get("consent_id"), request.args.get("secret"))
        if subject is None:
            return render_template("forbidden.html", words=words(language), language=language), 403
        kept = {k: v for k, v in request.args.items() if k in ("lang", "return", "region")}
        clean = url_for("preferences.page", site_key=site_key) + (f"?{urlencode(kept)}" if kept else "")
        return _remember(redirect(clean, 303), site_key, subject.consent_id, request.args["secret"])

    visitor = _visitor(site)
    consent_id = visitor[0] if visitor else None
    location = locate(config, request.args.get("region"))
    served = rules.serve(config, rules.select(config.rules, location.region), location.region)
    history = _history(site, consent_id) if consent_id else []
    current = history[0] if history else None
    choices = current["choices"] if current else dict(served.defaults)
    gpc_decision = next((d for d in history if d["method"] == Method.GPC.value), None)
    page_html = render_template(
        "preferences.html",
        site=site,
        config=config,
        language=language,
        words=words(language),
        categories=_categories(config, language),
        choices=choices,
        current=current,
        history=history,
        do_not_sell=served.model == ConsentModel.OPT_OUT
        and (Link.DO_NOT_SELL in served.first_layer.links or config.site.sells_or_shares),
        opted_out=not any(choices.get(c.key) for c in config.categories if c.sells_or_shares and not c.necessary),
        gpc_signal=request.headers.get("Sec-GPC") == "1",
        gpc_binding=served.gpc != SignalTreatment.IGNORE,
        gpc_decision=gpc_decision,
        saved=request.args.get("saved") == "1",
        csrf=_csrf(site_key, consent_id),
        return_to=(return_to := _return_to(config)),
        # the snippet, back on the site's page, takes the latest recorded decision in when it sees #cmp-sync
        back_link=return_to.split("#", 1)[0] + "#cmp-sync" if return_to else None,
        region=request.args.get("region"),
    )
    response = make_response(page_html, 200, _headers(language))
    if request.cookies.get(COOKIE) and not visitor:
        response.delete_cookie(COOKIE, path=url_for("preferences.page", site_key=site_key))
    return response


def _categories(config, language: str) -> list[dict]:
    default = config.site.default_language
    return [
        {
            "key": c.key,
            "name": lang.pick(c.name, language, default),
            "description": lang.pick(c.description, language, default),
            "necessary": c.necessary,
            "sale_or_sharing": c.sells_or_shares,
        }
        for c in config.categories
    ]


def _history(site: Site, consent_id: str) -> list[dict]:
    rows = db.session.execute(
        select(Record, PublishedVersion.number)
        .outerjoin(
            PublishedVersion,
            (PublishedVersion.site_id == Record.site_id) & (PublishedVersion.hash == _document_version(Record)),
        )
        .where(Record.site_id == site.id, Record.consent_id == consent_id)
        .order_by(Record.time.desc(), Record.id.desc())
    ).all()
    history = []
    for row, number in rows:
        document = json.loads(row.document)
        if document["consent"] != consent_id:  # the lookup column was edited: not this visitor's record
            continue
        history.append({**document, "record_id": row.record_id, "version_number": number, "time_value": row.time})
    return history


def _document_version(model):
    """The version hash of a record, as its canonical form holds it (``"version":"<64 hex>"``)."""
    start = func.instr(model.document, '"version":"') + 11
    if db.engine.dialect.name == "postgresql":
        start = func.strpos(model.document, '"version":"') + 11
    return func.substr(model.document, start, 64)


@bp.post("/sites/<site_key>/preferences")
def save(site_key: str):
    site, live, config = live_or_404(site_key)
    language = chosen_language(config)
    visitor = _visitor(site)
    consent_id = visitor[0] if visitor else None
    if not hmac.compare_digest(request.form.get("csrf", ""), _csrf(site_key, consent_id)):
        abort(400, "The form expired; open the page again.")
    action = request.form.get("action")
    if action not in ("save", "accept_all", "reject_all", "do_not_sell"):
        abort(400, "Unknown action.")

    history = _history(site, consent_id) if consent_id else []
    location = locate(config, request.form.get("region") or None)
    served = rules.serve(config, rules.select(config.rules, location.region), location.region)
    before = history[0]["choices"] if history else dict(served.defaults)
    checked = set(request.form.getlist("category"))
    choices = {}
    for category in config.categories:
        if category.necessary or action == "accept_all":
            choices[category.key] = True
        elif action == "reject_all":
            choices[category.key] = False
        elif action == "do_not_sell":
            choices[category.key] = bool(before.get(category.key)) and not category.sells_or_shares
        else:
            choices[category.key] = category.key in checked
    method = _method(action, before, choices, had_consent=bool(history))
    data = {
        "version": live.hash,
        "language": language,
        "choices": choices,
        "method": method,
        "layer": 2,
        "control": f"hosted_{action}",
        "page_url": request.base_url,
        "signals": {"gpc": False, "dnt": False},
    }
    if request.form.get("region"):
        data["region"] = request.form["region"]
    if visitor:
        data["consent_id"], data["secret"] = visitor
    answer, status = take_decision(site_key, data)
    kept = {"saved": "1", **{k: v for k in ("lang", "return", "region") if (v := request.form.get(k))}}
    response = redirect(url_for("preferences.page", site_key=site_key) + "?" + urlencode(kept), 303)
    if status == 201 and answer.get("secret"):
        _remember(response, site_key, answer["consent_id"], answer["secret"])
    return response


def _method(action: str, before: dict, after: dict, had_consent: bool) -> Method:
    if action == "accept_all":
        return Method.ACCEPT_ALL
    if action == "reject_all":
        return Method.REJECT_ALL
    withdrawn = [key for key, on in before.items() if on and not after.get(key)]
    granted = [key for key, on in after.items() if on and not before.get(key)]
    if had_consent and withdrawn and not granted:
        return Method.WITHDRAWAL  # only taking back what was given: a withdrawal (GDPR Art. 7(3))
    return Method.CUSTOM


def _own_record(site: Site, record_id: str) -> tuple[Record, dict]:
    visitor = _visitor(site)
    row = db.session.scalar(select(Record).where(Record.record_id == record_id, Record.site_id == site.id))
    if visitor is None or row is None:
        abort(403)
    document = json.loads(row.document)
    if document["consent"] != visitor[0] or row.consent_id != visitor[0]:
        abort(403)
    return row, document


@bp.get("/sites/<site_key>/preferences/receipts/<record_id>")
def receipt(site_key: str, record_id: str):
    site, _, config = live_or_404(site_key)
    row, document = _own_record(site, record_id)
    language = chosen_language(config)
    page_html = render_template(
        "receipt.html",
        site=site,
        language=language,
        words=words(language),
        document=document,
        categories={c["key"]: c["name"] for c in _categories(config, language)},
        receipt=row.receipt,
        record_hash=merkle.leaf_hash(row.document.encode()).hex(),
        keys_url=url_for("keys.PublishedKeys", _external=True),
    )
    return make_response(page_html, 200, _headers(language))


@bp.get("/sites/<site_key>/preferences/receipts/<record_id>.json")
def receipt_json(site_key: str, record_id: str):
    row, document = _own_record(site_or_404(site_key), record_id)
    body = {
        "record": document,
        "record_hash": merkle.leaf_hash(row.document.encode()).hex(),
        "receipt": row.receipt,
        "keys": url_for("keys.PublishedKeys", _external=True),
    }
    response = make_response(json.dumps(body, indent=2, ensure_ascii=False), 200)
    response.headers.update(
        {
            "Content-Type": "application/json",
            "Content-Disposition": f'attachment; filename="consent-receipt-{record_id}.json"',
            "Cache-Control": "no-store",
        }
    )
    return response
