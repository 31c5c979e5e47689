#!/usr/bin/env bash
# Static checks: ruff (style, bugbear, security, no print) and mypy --strict.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
.venv/bin/python -m ruff check classification store retrieval ingest api || rc=1
.venv/bin/python -m mypy --strict classification store retrieval ingest api || rc=1
exit $rc
