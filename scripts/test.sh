#!/usr/bin/env bash
# Install ragseal with its test tools, run the whole test suite (slow tests
# included), then the static checks (scripts/lint.sh). Extra arguments go to
# pytest, e.g.
#   scripts/test.sh -m "not slow"    the quick subset
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test || exit $?
# The shared control plane's tests need PostgreSQL (docs/CONTROL-PLANE.md): start
# one and make those tests fail, not skip, when it is missing.
if [[ -z "${RAGSEAL_TEST_DATABASE_URL:-}" ]]; then
  RAGSEAL_TEST_DATABASE_URL="$(scripts/postgres.sh)" || exit $?
fi
export RAGSEAL_TEST_DATABASE_URL RAGSEAL_REQUIRE_POSTGRES=1
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
scripts/lint.sh || { echo "scripts/test.sh: static checks failed" >&2; [[ $rc -eq 0 ]] && rc=1; }
exit $rc
