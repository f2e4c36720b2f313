#!/usr/bin/env bash
# Installs vmpool and runs lint, type checks and the whole test suite (unit,
# integration against real lab hosts and PostgreSQL, end to end). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh

.venv/bin/ruff check src tests bench alembic
.venv/bin/ruff format --check src tests bench alembic
.venv/bin/mypy
.venv/bin/lint-imports  # the layer contracts in pyproject.toml
# The fixtures start the lab hosts, build the guest image and start PostgreSQL.
exec .venv/bin/pytest -q "$@"
