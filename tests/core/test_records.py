"""The canonical form of a consent record, and the digest of its personal data."""

from datetime import UTC, datetime

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from consent.core.records import ConsentRecord, Method, PersonalData, Signals, canonical_json, format_time

text = st.text(max_size=40)
keys = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


def record(**changes) -> ConsentRecord:
    values = dict(
        record_id="4f1c0d3e-8a52-4a3b-9d10-3c8f5f0c2b11",
        site="quadient",
        consent_id="Zx3v9k2LmQ8pR4tW7yB1nA",
        time=datetime(2026, 11, 22, 9, 15, 2, 123456, tzinfo=UTC),
        version="9b545c8bc87d2233a3c1cf2455d322db8b797dabe5239ff06c4bdeff99e87ec7",
        language="fr",
        choices={"necessary": True, "analytics": False},
        method=Method.REJECT_ALL,
        region={"country": "FR", "subdivision": None, "source": "header:cloudflare"},
        rule={"key": "opt-in-regions", "law": "GDPR and ePrivacy Directive", "model": "opt_in"},
        personal_digest="0" * 64,
        signals=Signals(dnt=True),
        layer=1,
        control="reject_all",
    )
    return ConsentRecord(**{**values, **changes})


@given(
    choices=st.dictionaries(keys, st.booleans(), max_size=8),
    language=text,
    control=st.none() | text,
    layer=st.none() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),  # JCS: IEEE 754 safe integers
    law=text,
)
def test_the_fast_canonical_form_is_rfc_8785(choices, language, control, layer, law):
    r = record(
        choices=choices,
        language=language,
        control=control,
        layer=layer,
        rule={"key": "k", "law": law, "model": "opt_in"},
    )
    assert r.canonical() == rfc8785.dumps(r.document())


def test_any_change_changes_the_leaf():
    base = record().leaf()
    assert record(choices={"necessary": True, "analytics": True}).leaf() != base
    assert record(time=datetime(2026, 11, 22, 9, 15, 2, 123457, tzinfo=UTC)).leaf() != base
    assert record(signals=Signals()).leaf() != base


def test_times_are_utc_with_microseconds():
    assert format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def test_the_personal_digest_commits_to_every_personal_field_and_its_salt():
    base = PersonalData(
        salt="00" * 16,
        ip="203.0.113.0/24",
        browser="Firefox 140",
        os="Linux",
        device="desktop",
        page_url="https://www.quadient.com/fr",
    )
    digests = {
        base.digest(),
        PersonalData(**{**base.__dict__, "salt": "01" * 16}).digest(),
        PersonalData(**{**base.__dict__, "ip": "203.0.114.0/24"}).digest(),
        PersonalData(**{**base.__dict__, "page_url": None}).digest(),
    }
    assert len(digests) == 4


def test_canonical_json_does_not_escape_non_ascii():
    assert canonical_json({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'.encode()
