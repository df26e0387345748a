"""Whether a visitor's decision is one the banner they were shown could have produced.

A decision names a choice for every category of the published version it answers; necessary categories are
always granted; and the method must agree with the choices and with the rule served in the visitor's region
(an "accept all" refuses nothing, a GPC opt-out needs a GPC signal, implied consent needs a rule that allows
it). Problems are ``(path, message)`` pairs naming the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping

from .records import Method, Signals
from .rules import ServedRule
from .siteconfig import Problem, SignalTreatment, SiteConfig


def problems(
    choices: Mapping[str, bool], method: Method, signals: Signals, config: SiteConfig, rule: ServedRule
) -> list[Problem]:
    found: list[Problem] = []
    categories = {c.key: c for c in config.categories}
    for key in categories.keys() - choices.keys():
        found.append((("choices", key), "missing: a decision names a choice for every category of the version"))
    for key in choices.keys() - categories.keys():
        found.append((("choices", key), "not a category of this version"))
    if found:
        return found

    optional = {key: on for key, on in choices.items() if not categories[key].necessary}
    for key, on in choices.items():
        if categories[key].necessary and not on:
            found.append((("choices", key), "a necessary category cannot be refused"))

    if method == Method.ACCEPT_ALL and not all(optional.values()):
        found.append((("method",), "'accept_all' with a category refused"))
    elif method == Method.REJECT_ALL and any(optional.values()):
        found.append((("method",), "'reject_all' with a category granted"))
    elif method == Method.GPC:
        if not (signals.gpc or signals.sec_gpc):
            found.append((("method",), "'gpc' without a Global Privacy Control signal"))
        elif rule.gpc == SignalTreatment.IGNORE:
            found.append((("method",), f"the rule {rule.key!r} ignores Global Privacy Control in this region"))
        else:
            found += _opted_out(choices, config, rule.gpc, "Global Privacy Control")
    elif method == Method.DNT:
        if not signals.dnt:
            found.append((("method",), "'dnt' without a Do Not Track signal"))
        elif rule.dnt == SignalTreatment.IGNORE:
            found.append((("method",), f"the rule {rule.key!r} ignores Do Not Track"))
        else:
            found += _opted_out(choices, config, rule.dnt, "Do Not Track")
    elif method == Method.IMPLIED and not rule.implied_consent:
        found.append((("method",), f"implied consent is not valid under the rule served here ({rule.law})"))
    return found


def _opted_out(choices: Mapping[str, bool], config: SiteConfig, treatment: SignalTreatment, signal: str):
    """The categories a signal switches off must be off in a decision made by that signal."""
    found = []
    for category in config.categories:
        if category.necessary or not choices[category.key]:
            continue
        if treatment == SignalTreatment.REJECT_ALL or category.sells_or_shares:
            found.append((("choices", category.key), f"{signal} switches this category off under the rule"))
    return found
