"""The rule served to a visitor: the owner's rule, raised to the law of the visitor's region."""

from dataclasses import replace

from consent.core import rules
from consent.core import siteconfig as sc
from consent.core.regions import Region

from .factories import config, example, rule

M = sc.ConsentModel


def served(cfg, code):
    region = Region.parse(code)
    return rules.serve(cfg, rules.select(cfg.rules, region), region)


def codes(served_rule):
    return {a.code for a in served_rule.adjustments}


def test_the_most_specific_rule_wins():
    cfg = config(rule("world", ("*",), M.NOTICE), rule("eu", ("EEA",)), rule("france", ("FR",)))
    assert served(cfg, "FR").key == "france"
    assert served(cfg, "DE").key == "eu"
    assert served(cfg, "JP").key == "world"


def test_opt_in_keeps_optional_categories_off_until_the_visitor_chooses():
    s = served(config(rule(model=M.OPT_IN)), "DE")
    assert s.defaults == {"necessary": True, "analytics": False, "ads": False}
    assert not s.adjustments


def test_opt_out_runs_optional_categories_until_the_visitor_opts_out():
    assert served(config(rule(model=M.OPT_OUT)), "JP").defaults == {"necessary": True, "analytics": True, "ads": True}


def test_a_pre_ticked_category_in_the_eu_is_served_unticked():
    s = served(config(rule(model=M.OPT_IN, defaults={"analytics": True})), "FR")
    assert s.defaults["analytics"] is False and codes(s) == {"preselected_category"}


def test_a_notice_in_the_eu_is_raised_to_opt_in_with_accept_and_reject():
    s = served(config(rule(model=M.NOTICE)), "IT")
    assert s.model == M.OPT_IN
    assert {sc.Button.ACCEPT_ALL, sc.Button.REJECT_ALL} <= set(s.first_layer.buttons)
    assert s.defaults["ads"] is False
    assert "model_too_weak" in codes(s)


def test_no_reject_on_the_first_layer_in_the_eu_gets_one_next_to_accept():
    s = served(config(rule(model=M.OPT_IN, buttons=("accept_all", "preferences"))), "BE")
    assert s.first_layer.buttons[:2] == (sc.Button.ACCEPT_ALL, sc.Button.REJECT_ALL)
    assert codes(s) == {"reject_missing"}


def test_the_same_rule_needs_no_reject_button_where_the_law_does_not_ask_for_one():
    s = served(config(rule(model=M.OPT_IN, buttons=("accept_all", "preferences"))), "JP")
    assert sc.Button.REJECT_ALL not in s.first_layer.buttons and not s.adjustments


def test_continuing_to_browse_is_not_consent_in_france():
    s = served(config(rule(model=M.NOTICE, implied_consent=True)), "FR")
    assert s.implied_consent is False and "implied_consent_invalid" in codes(s)


def test_continuing_to_browse_may_count_where_no_law_forbids_it():
    assert served(config(rule(model=M.NOTICE, implied_consent=True)), "JP").implied_consent is True


def test_a_consent_kept_over_13_months_is_capped_in_the_eu():
    s = served(config(rule(consent_lifetime_days=730)), "ES")
    assert s.consent_lifetime_days == 395 and "consent_lifetime_too_long" in codes(s)


def test_a_refusal_forgotten_after_a_week_is_remembered_six_months_in_the_eu():
    s = served(config(rule(refusal_lifetime_days=7)), "NL")
    assert s.refusal_lifetime_days == 182 and "refusal_lifetime_too_short" in codes(s)


def test_gpc_in_california_opts_out_even_when_the_rule_ignores_it():
    s = served(config(rule("us", ("US",), M.OPT_OUT, gpc=sc.SignalTreatment.IGNORE)), "US-CA")
    assert s.gpc == sc.SignalTreatment.OPT_OUT and codes(s) == {"gpc_ignored"}


def test_gpc_may_be_ignored_where_it_is_not_binding():
    s = served(config(rule("us", ("US",), M.OPT_OUT, gpc=sc.SignalTreatment.IGNORE)), "US-UT")
    assert s.gpc == sc.SignalTreatment.IGNORE and not s.adjustments


def test_a_visitor_whose_state_is_unknown_gets_the_strictest_state_law():
    s = served(config(rule("us", ("US",), M.OPT_OUT, gpc=sc.SignalTreatment.IGNORE)), "US")
    assert s.gpc == sc.SignalTreatment.OPT_OUT


def test_a_site_that_sells_gets_a_do_not_sell_link_and_an_opt_out_in_california():
    cfg = config(rule("world", ("*",), M.NOTICE), sells_or_shares=True)
    s = served(cfg, "US-CA")
    assert s.model == M.OPT_OUT and sc.Link.DO_NOT_SELL in s.first_layer.links
    assert {"sale_opt_out_missing", "do_not_sell_link_missing"} <= codes(s)


def test_a_site_that_does_not_sell_needs_no_do_not_sell_link():
    assert sc.Link.DO_NOT_SELL not in served(config(rule("world", ("*",), M.NOTICE)), "US-CA").first_layer.links


def test_switzerland_lets_analytics_run_but_needs_an_opt_in_for_advertising():
    s = served(config(rule("world", ("*",), M.OPT_OUT)), "CH")
    assert s.defaults == {"necessary": True, "analytics": True, "ads": False}
    assert codes(s) == {"opt_in_purpose"}


def test_necessary_categories_are_always_on():
    for model in M:
        assert served(config(rule(model=model)), "DE").defaults["necessary"] is True


def test_sodepac_continuing_to_use_the_site_is_not_consent_in_france():
    s = served(example("sodepac"), "FR")
    assert s.model == M.OPT_IN and s.implied_consent is False
    assert {"model_too_weak", "implied_consent_invalid"} <= codes(s)
    assert s.dnt == sc.SignalTreatment.IGNORE  # its policy: DNT is not answered, and no law makes it binding


def test_unifiedpost_keeps_its_own_buttons_and_gets_a_reject_button_in_the_eu():
    s = served(example("unifiedpost"), "BE")
    assert s.first_layer.buttons == (sc.Button.ACCEPT_ALL, sc.Button.REJECT_ALL, sc.Button.PREFERENCES)


def test_anytime_postage_honours_gpc_in_california_whatever_its_policy_says():
    s = served(example("anytime-postage"), "US-CA")
    assert s.gpc == sc.SignalTreatment.OPT_OUT and s.dnt == sc.SignalTreatment.IGNORE
    assert sc.Link.DO_NOT_SELL in s.first_layer.links


def test_a_notice_raised_to_opt_in_loses_its_close_button():
    # "Got it" would dismiss an opt-in banner without any choice being made
    s = served(config(rule(model=M.NOTICE, buttons=("close",))), "FR")
    assert s.first_layer.buttons == (sc.Button.ACCEPT_ALL, sc.Button.REJECT_ALL, sc.Button.PREFERENCES)


def test_the_owners_opt_in_wording_is_shown_where_the_law_raises_the_rule():
    sodepac = example("sodepac")
    assert served(sodepac, "FR").text_variant == "opt_in"
    assert served(sodepac, "JP").text_variant is None  # where implied consent is lawful, the policy's own words


def test_without_opt_in_wording_the_owner_is_told_to_add_it():
    (weak,) = [a for a in served(config(rule(model=M.NOTICE)), "FR").adjustments if a.code == "model_too_weak"]
    assert "variant named 'opt_in'" in weak.message


def test_switzerland_needs_an_opt_in_for_social_widgets_too():
    cfg = config(rule("world", ("*",), M.OPT_OUT))
    social = sc.Category(key="social", purpose=sc.Purpose.SOCIAL, name={"en": "Social"})
    cfg = replace(cfg, categories=(*cfg.categories, social))
    assert served(cfg, "CH").defaults["social"] is False
