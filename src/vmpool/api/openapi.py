"""The OpenAPI document, generated from the routes alone (no database, no hosts)."""

from __future__ import annotations

import json

from vmpool.api.app import create_app


def openapi_json() -> str:
    spec = create_app(None).openapi()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"
