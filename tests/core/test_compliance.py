"""Warnings an owner gets: one per rule, problem and law, with the regions named compactly."""

from consent.core import compliance
from consent.core import siteconfig as sc

from .factories import config, example, rule

M = sc.ConsentModel


def test_a_worldwide_notice_is_flagged_for_every_opt_in_jurisdiction():
    warnings = compliance.check(config(rule(model=M.NOTICE)))
    weak = {w.law: w.regions for w in warnings if w.code == "model_too_weak"}
    assert weak["GDPR and ePrivacy Directive"] == ("EEA",)
    assert set(weak) >= {"UK GDPR and PECR", "Brazil LGPD (ANPD cookie guide)", "Quebec Law 25"}


def test_warnings_name_the_rule_and_what_is_served_instead():
    (warning,) = [
        w
        for w in compliance.check(
            config(rule(gpc=sc.SignalTreatment.IGNORE, model=M.OPT_OUT, regions=("US",), key="us"), rule(key="world"))
        )
        if w.code == "gpc_ignored" and "US-CA" in w.regions
    ]
    assert warning.rule == "us" and warning.law == "CCPA/CPRA"
    assert warning.served == sc.SignalTreatment.OPT_OUT and warning.field == "gpc"


def test_quadient_and_optipost_are_compliant():
    assert compliance.check(example("quadient")) == []
    assert compliance.check(example("optipost")) == []


def test_unifiedpost_is_told_its_banner_needs_a_reject_button():
    assert {w.code for w in compliance.check(example("unifiedpost"))} == {"reject_missing"}


def test_sodepac_is_told_continuing_to_browse_is_not_consent_in_the_eu():
    warnings = compliance.check(example("sodepac"))
    invalid = [w for w in warnings if w.code == "implied_consent_invalid"]
    assert any("EEA" in w.regions for w in invalid)


def test_anytime_postage_is_told_gpc_is_binding_in_california():
    warnings = compliance.check(example("anytime-postage"))
    assert {w.code for w in warnings} == {"gpc_ignored"}
    gpc_states = {r for w in warnings for r in w.regions}
    assert {"US-CA", "US-CO", "US-TX", "US"} <= gpc_states and "US-NV" not in gpc_states


def test_visitors_whose_province_is_unknown_are_checked_too():
    # an unlocated Canadian gets Quebec's opt-in floor, so an opt-out rule for Canada is flagged for "CA"
    warnings = compliance.check(config(rule("world", ("*",), M.OPT_OUT), rule("qc", ("CA-QC",))))
    assert any(w.regions == ("CA",) and w.code == "model_too_weak" for w in warnings)
