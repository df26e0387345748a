"""The committed OpenAPI document (docs/api/openapi.json) is the one the code generates."""

import json

from .conftest import ROOT


def test_the_committed_openapi_document_is_up_to_date(client):
    served = client.get("/api/openapi.json").json
    committed = json.loads((ROOT / "docs" / "api" / "openapi.json").read_text())
    assert committed == served, "run `make openapi` and commit docs/api/openapi.json"


def test_every_owner_operation_requires_an_api_key(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method != "parameters" and path.startswith("/api/v1/sites"):
                assert operation.get("security") == [{"ApiKey": []}], f"{method.upper()} {path}"
