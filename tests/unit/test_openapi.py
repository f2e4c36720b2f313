"""The committed OpenAPI spec is what the code generates, and reads well in generated clients."""

import json
from pathlib import Path

from vmpool.api.openapi import openapi_json
from vmpool.api.policy import Access, access_of

SPEC_FILE = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_committed_spec_matches_the_code() -> None:
    assert SPEC_FILE.read_text() == openapi_json(), "run `vmpool openapi -o docs/openapi.json`"


def test_every_operation_has_an_id_a_tag_and_documented_errors() -> None:
    spec = json.loads(openapi_json())
    ids = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ids.append(op["operationId"])
            assert op.get("tags"), (method, path)
            assert "__" not in op["operationId"]  # not FastAPI's generated fallback
            if access_of(method, path) is not Access.PUBLIC:
                assert "401" in op["responses"], (method, path)
                assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorBody"
                }
    assert len(ids) == len(set(ids))


def test_every_error_a_route_can_answer_is_documented_and_ids_have_a_range() -> None:
    spec = json.loads(openapi_json())
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if access_of(method, path) is Access.PUBLIC:
                continue  # no token, no body: it answers 200
            documented = set(op["responses"])
            # Any route: a body that is not UTF-8 JSON, token, role, size, invalid input.
            assert {"400", "401", "403", "413", "422"} <= documented, (method, path)
            params = op.get("parameters", [])
            if any(p["in"] == "path" for p in params):
                assert "404" in documented, (method, path)
            for p in params:
                schema = p["schema"].get("anyOf", [p["schema"]])[0]
                if p["name"] in ("after", "before") or p["name"].endswith("_id"):
                    assert schema["maximum"] == 2**31 - 1, (method, path, p["name"])
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"
                    }, (method, path, status)
