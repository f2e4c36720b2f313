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
if [ $# -gt 0 ]; then
  exec .venv/bin/pytest -q "$@"
fi
# The whole suite in two processes side by side: the lab tests (most of the time: TCG guests
# booting and migrating) in one, every other test in the other (tests/conftest.py refuses a
# test that uses the lab unmarked, so the lab is never used by both). Each starts its own
# PostgreSQL. The other process's output follows the lab's. It runs at a lower priority: the
# lab's TCG guests and their timeouts feel the contention most, and the others finish in a
# third of the lab's time anyway (docs/performance.md).
others_log=$(mktemp)
trap 'rm -f "$others_log"' EXIT
nice -n 10 .venv/bin/pytest -q -m "not lab" -p no:cacheprovider >"$others_log" 2>&1 &
others=$!
lab_status=0
.venv/bin/pytest -q -m lab || lab_status=$?
others_status=0
wait "$others" || others_status=$?
echo
echo "=== the tests that do not use the lab (run beside the lab tests) ==="
cat "$others_log"
echo "lab tests: exit $lab_status; the others: exit $others_status"
[ "$lab_status" -eq 0 ] && [ "$others_status" -eq 0 ]
