#!/usr/bin/env bash
# Install ragseal with its test tools, then run the whole test suite
# (slow tests included). Extra arguments go to pytest, e.g.
#   scripts/test.sh -m "not slow"    the quick subset
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test || exit $?
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit $rc
