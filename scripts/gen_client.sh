#!/usr/bin/env bash
# Regenerates the Python client (clients/python/vmpool_client) from the API: first the spec
# (docs/openapi.json), then the package from it with openapi-python-client, formatted with
# ruff so that the output is the same on every machine. tests/unit/test_client_drift.py
# fails when the committed package differs from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  out=clients/python/vmpool_client
  .venv/bin/vmpool openapi -o docs/openapi.json
else  # another folder (the drift test): from the committed spec, which test_openapi.py checks
  out=$1
fi
rm -rf "$out"
.venv/bin/openapi-python-client generate --path docs/openapi.json \
  --config clients/python/openapi-python-client.yml --meta none --output-path "$out" \
  --overwrite >/dev/null
.venv/bin/ruff format -q --isolated --line-length 100 "$out"
.venv/bin/ruff check -q --isolated --fix-only --select I,F401,UP --line-length 100 "$out" || true
touch "$out/py.typed"  # the package carries its type hints
