"""Fuzzing the API from its own OpenAPI document (schemathesis): no server error, and no response the document
does not describe, for valid and invalid input alike.

Requests carry the operator's admin key and name a real site, so that generated bodies reach the validation and
the database rather than stopping at authentication or at an unknown site. (schemathesis' pytest plugin does not
run under pytest 9, so each operation gets a Hypothesis run of its own here.)

Every check runs except "schema-valid data is accepted": some rules cannot be written in JSON Schema (a code that
exists in ISO 3166, a vendor's category that must exist, two rules claiming the same region), so the API rightly
refuses some data the document's patterns allow. The reverse check, that data the document forbids is refused,
runs, and counts 413 (a body over the size limit) as a refusal.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig

from .conftest import ROOT, issue_key, load_examples

SITE = "quadient"
EXAMPLES_PER_OPERATION = int(os.environ.get("CMP_FUZZ_EXAMPLES", "10"))  # CI raises it
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428"]
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"enabled": False},
        "negative_data_rejection": {"expected-statuses": REFUSALS},
    }
}


@pytest.fixture
def api_schema(app):
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))


def fuzz(operation, mode, headers):
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters={"site_key": SITE}))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers)

    run()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_the_api_never_errors_and_always_answers_as_documented(app, api_schema, mode):
    headers = {"Authorization": f"Bearer {issue_key(app, 'admin')}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    failures = []
    for operation in operations:
        try:
            fuzz(operation, mode, headers)
        except Unsatisfiable:
            pass  # nothing in this operation can be made invalid (e.g. only a path parameter)
        except (Exception, BaseExceptionGroup) as error:  # every operation's failures, not only the first
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
