"""Recording decisions: what is stored, what is refused, and what the visitor gets back."""

from __future__ import annotations

import ipaddress
import json
import random

import pytest
from sqlalchemy import func, select

from consent.core.signing import PublicKey, b64url_decode, verify_receipt
from consent.extensions import db
from consent.models import PersonalRecordData, Record

from .conftest import ROOT, load_examples, make_app

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
QUADIENT_PAGE = "https://www.quadient.com"


def version(client, site="quadient", region="FR"):
    return client.get(f"/api/v1/banner/{site}?region={region}").json["version"]


def decide(client, site="quadient", *, headers=None, address="203.0.113.77", **body):
    """Post a decision as a Firefox visitor on the site's own page would."""
    payload = {
        "version": body.pop("version", None) or version(client, site),
        "language": "en",
        "choices": {"necessary": True, "analytics": False, "marketing": False},
        "method": "reject_all",
        "layer": 1,
        "control": "reject_all",
        "page_url": f"{QUADIENT_PAGE}/en/products?utm_source=mail#pricing",
        "region": "FR",
        **body,
    }
    headers = {"User-Agent": FIREFOX, "Origin": QUADIENT_PAGE, **(headers or {})}
    return client.post(
        f"/api/v1/decisions/{site}", json=payload, headers=headers, environ_base={"REMOTE_ADDR": address}
    )


def records(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Record))


def published_keys(client):
    return [
        PublicKey("consent.test", b64url_decode(k["x"]))
        for k in client.get("/.well-known/consent-keys.json").json["keys"]
    ]


# --- recording -------------------------------------------------------------------------------------------------


def test_a_first_decision_gets_a_consent_id_a_secret_and_a_signed_receipt(client, quadient):
    response = decide(client)
    assert response.status_code == 201, response.json
    answer = response.json
    assert answer["recorded"] is True and len(answer["consent_id"]) == 22 and len(answer["secret"]) == 43
    claims = verify_receipt(answer["receipt"], published_keys(client))
    assert claims["jti"] == answer["record_id"] and claims["sub"] == answer["consent_id"]
    assert claims["choices"] == {"necessary": True, "analytics": False, "marketing": False}
    assert claims["record_hash"] == answer["record_hash"] and claims["version"] == version(client)
    assert claims["rule"] == {"key": "opt-in-regions", "law": "GDPR and ePrivacy Directive", "model": "opt_in"}


def test_the_record_holds_what_the_server_knows(app, client, quadient):
    decide(client, headers={"User-Agent": IPHONE, "Sec-GPC": "1"}, signals={"gpc": True, "dnt": False})
    with app.app_context():
        row = db.session.scalar(select(Record))
        record = json.loads(row.document)
        assert record["region"] == {"country": "FR", "subdivision": None, "source": "override"}
        assert record["rule"] == {"key": "opt-in-regions", "law": "GDPR and ePrivacy Directive", "model": "opt_in"}
        assert record["signals"] == {"sec_gpc": True, "gpc": True, "dnt": False}
        assert (record["method"], record["layer"], record["control"]) == ("reject_all", 1, "reject_all")
        personal = row.personal.to_value()
        assert (personal.browser, personal.os, personal.device) == ("Mobile Safari 17", "iOS", "mobile")
        assert personal.page_url == "https://www.quadient.com/en/products"  # no query, no fragment
        assert personal.ip == "203.0.113.0/24"  # never the raw address
        assert personal.digest() == record["personal"]


@pytest.mark.parametrize("storage, expected", [("hash", "hmac-sha256:"), ("none", None)])
def test_the_operator_chooses_how_the_address_is_kept(database_url, storage, expected):
    app = make_app(database_url, ip_storage=storage)
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    decide(app.test_client())
    with app.app_context():
        ip = db.session.scalar(select(PersonalRecordData)).to_value().ip
    assert ip is None if expected is None else ip.startswith(expected) and "203.0.113" not in ip


def test_later_decisions_need_the_visitors_secret(client, quadient):
    first = decide(client).json
    accepted = {"necessary": True, "analytics": True, "marketing": True}
    again = decide(
        client,
        consent_id=first["consent_id"],
        secret=first["secret"],
        method="accept_all",
        choices=accepted,
        control="accept_all",
    )
    assert again.status_code == 201 and again.json["consent_id"] == first["consent_id"] and "secret" not in again.json
    forged = decide(client, consent_id=first["consent_id"], secret="x" * 43)
    assert forged.status_code == 403
    assert decide(client, consent_id=first["consent_id"]).status_code == 422  # the secret goes with the ID


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
        "python-requests/2.32.3",
        "",
    ],
)
def test_bots_are_told_they_were_not_recorded(app, client, quadient, agent):
    response = decide(client, headers={"User-Agent": agent})
    assert response.status_code == 200 and response.json == {"recorded": False, "reason": "bot"}
    assert records(app) == 0


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"choices": {"necessary": True, "analytics": False}}, "marketing"),
        ({"choices": {"necessary": True, "analytics": False, "marketing": False, "ads": True}}, "ads"),
        ({"choices": {"necessary": False, "analytics": False, "marketing": False}}, "necessary"),
        ({"choices": {"necessary": True, "analytics": "no", "marketing": False}}, "choices"),
        ({"method": "accept_all"}, "method"),
        ({"method": "sometimes"}, "method"),
        ({"method": "gpc"}, "method"),
        ({"method": "implied"}, "method"),
        ({"version": "f" * 64}, "version"),
        ({"version": "not-a-hash"}, "version"),
        ({"language": "de"}, "language"),
        ({"consent_id": "short", "secret": "x" * 43}, "consent_id"),
        ({"layer": 7}, "layer"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"region": "ZZ"}, "region"),
    ],
)
def test_invalid_decisions_are_refused_naming_the_field_and_nothing_is_stored(app, client, quadient, changes, field):
    response = decide(client, **changes)
    assert response.status_code in (400, 422), response.json
    assert field in json.dumps(response.json["errors"])
    assert records(app) == 0


def test_a_decision_for_an_unknown_site_is_404(client, quadient):
    assert decide(client, site="nobody", version="a" * 64).status_code == 404


def test_an_oversized_decision_is_refused(app, client, quadient):
    response = decide(client, control="x" * 2_000_000)
    assert response.status_code == 413 and records(app) == 0


def test_decisions_come_from_the_sites_own_pages_only(app, client, quadient):
    assert decide(client, headers={"Origin": "https://evil.example"}).status_code == 403
    response = decide(client)
    assert response.headers["Access-Control-Allow-Origin"] == QUADIENT_PAGE
    preflight = client.options(
        "/api/v1/decisions/quadient",
        headers={
            "Origin": QUADIENT_PAGE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == QUADIENT_PAGE
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    foreign = client.options("/api/v1/decisions/quadient", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert records(app) == 1


def test_decisions_are_rate_limited_per_visitor_and_site(database_url):
    app = make_app(database_url, rate_limit="3 per minute")
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    client = app.test_client()
    statuses = [decide(client).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]


REDIS = "redis://127.0.0.1:6379/0"


def a_fresh_address() -> str:
    """Redis keeps counts between runs: a visitor address no earlier run used."""
    return str(ipaddress.IPv4Address(random.getrandbits(32) | 0x0A000000 & 0x0AFFFFFF))


def test_several_processes_share_the_rate_limit_in_redis(database_url):
    first = make_app(database_url, rate_limit="3 per minute", redis_url=REDIS)
    load_examples(first, [ROOT / "examples" / "quadient.yaml"])
    second = make_app(database_url, rate_limit="3 per minute", redis_url=REDIS)  # another worker, same Redis
    address = a_fresh_address()
    clients = [first.test_client(), second.test_client()] * 2
    assert [decide(c, address=address).status_code for c in clients] == [201, 201, 201, 429]


def test_with_redis_down_each_process_counts_alone_and_nothing_else_breaks(database_url, caplog):
    app = make_app(database_url, rate_limit="3 per minute", redis_url="redis://127.0.0.1:1/0")  # nothing listens
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    client = app.test_client()
    assert [decide(client).status_code for _ in range(4)] == [201, 201, 201, 429]
    assert "counting per process" in caplog.text


def test_gpc_in_california_is_recorded_as_gpc(client, quadient):
    response = decide(
        client,
        region="US-CA",
        method="gpc",
        control=None,
        layer=None,
        choices={"necessary": True, "analytics": True, "marketing": False},
        headers={"Sec-GPC": "1"},
        signals={"gpc": True},
    )
    assert response.status_code == 201, response.json
    assert verify_receipt(response.json["receipt"], published_keys(client))["method"] == "gpc"


def test_a_gpc_decision_must_switch_off_what_gpc_switches_off(client, quadient):
    response = decide(
        client,
        region="US-CA",
        method="gpc",
        headers={"Sec-GPC": "1"},
        choices={"necessary": True, "analytics": True, "marketing": True},
    )
    assert response.status_code == 422 and "marketing" in response.json["errors"]["json"]["choices"]


def test_implied_consent_is_refused_where_the_law_says_browsing_is_not_consent(app, client):
    load_examples(app, [ROOT / "examples" / "sodepac.yaml"])
    everything = {"necessary": True, "statistics": True, "social": True}
    france = decide(
        client,
        site="sodepac",
        region="FR",
        language="fr",
        method="implied",
        choices=everything,
        headers={"Origin": "https://www.sodepac.com"},
    )
    assert france.status_code == 422 and "GDPR" in france.json["errors"]["json"]["method"][0]
    japan = decide(
        client,
        site="sodepac",
        region="JP",
        language="fr",
        method="implied",
        choices=everything,
        headers={"Origin": "https://www.sodepac.com"},
    )
    assert japan.status_code == 201


# --- history ---------------------------------------------------------------------------------------------------


def test_a_visitor_sees_their_current_choice_and_history_with_receipts(client, quadient):
    first = decide(client).json
    everything = {"necessary": True, "analytics": True, "marketing": True}
    decide(
        client,
        consent_id=first["consent_id"],
        secret=first["secret"],
        method="accept_all",
        choices=everything,
        control="accept_all",
    )
    withdrawn = {"necessary": True, "analytics": False, "marketing": False}
    decide(
        client,
        consent_id=first["consent_id"],
        secret=first["secret"],
        method="withdrawal",
        choices=withdrawn,
        layer=2,
        control="save",
    )
    response = client.get(
        f"/api/v1/decisions/quadient/{first['consent_id']}", headers={"X-Consent-Secret": first["secret"]}
    )
    assert response.status_code == 200
    body = response.json
    assert [d["document"]["method"] for d in body["history"]] == ["withdrawal", "accept_all", "reject_all"]
    assert body["current"]["document"]["choices"] == withdrawn  # a withdrawal is a new record; the consent stays
    assert body["history"][-1]["record_id"] == first["record_id"]
    keys = published_keys(client)
    assert all(verify_receipt(d["receipt"], keys)["jti"] == d["record_id"] for d in body["history"])
    from consent.core import merkle
    from consent.core.records import canonical_json

    assert all(merkle.leaf_hash(canonical_json(d["document"])).hex() == d["record_hash"] for d in body["history"])
    document = body["history"][0]["document"]
    assert not {"ip", "browser", "os", "device", "page_url"} & set(document) and len(document["personal"]) == 64


def test_a_consent_id_without_its_secret_reveals_nothing(client, quadient):
    first = decide(client).json
    url = f"/api/v1/decisions/quadient/{first['consent_id']}"
    assert client.get(url).status_code == 403
    assert client.get(url, headers={"X-Consent-Secret": "y" * 43}).status_code == 403
    assert (
        client.get(
            "/api/v1/decisions/quadient/AAAAAAAAAAAAAAAAAAAAAA", headers={"X-Consent-Secret": first["secret"]}
        ).status_code
        == 403
    )


def test_another_sites_visitor_history_is_not_reachable_through_this_site(app, client, quadient):
    load_examples(app, [ROOT / "examples" / "optipost.yaml"])
    first = decide(client).json
    response = client.get(
        f"/api/v1/decisions/optipost/{first['consent_id']}", headers={"X-Consent-Secret": first["secret"]}
    )
    assert response.status_code == 403


def test_the_published_keys_are_a_jwk_set(client, quadient):
    (key,) = client.get("/.well-known/consent-keys.json").json["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert key["note_key"].startswith("consent.test+")


# --- retries ---------------------------------------------------------------------------------------------------


def test_a_retried_first_decision_is_recorded_once_and_answered_again_secret_included(app, client, quadient):
    first = decide(client, decision_key="k" * 30)
    again = decide(client, decision_key="k" * 30)  # the browser never saw the first answer and sends it again
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["replayed"] is True
    for field in ("record_id", "consent_id", "secret", "receipt", "record_hash", "time"):
        assert again.json[field] == first.json[field]
    assert records(app) == 1


def test_a_retried_later_decision_needs_the_secret_and_is_recorded_once(app, client, quadient):
    first = decide(client).json
    later = {"consent_id": first["consent_id"], "secret": first["secret"], "decision_key": "L" * 40}
    assert decide(client, **later).status_code == 201
    assert decide(client, **later).json["replayed"] is True
    assert decide(client, **{**later, "secret": "x" * 43}).status_code == 403
    assert records(app) == 2


def test_a_decision_key_cannot_fetch_another_visitors_answer(client, quadient):
    first = decide(client).json
    decide(client, decision_key="s" * 30)
    other = decide(client, consent_id=first["consent_id"], secret=first["secret"], decision_key="s" * 30)
    assert other.status_code == 409 and "decision_key" in other.json["errors"]["json"]
