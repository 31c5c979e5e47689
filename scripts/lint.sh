#!/usr/bin/env bash
# Static checks: ruff (style, bugbear, security, no print) and mypy --strict.
#
# mypy does not follow setuptools' editable-install finder, which maps the
# repository's folders into the `ragseal` namespace (pyproject.toml,
# package-dir). build/typecheck/ragseal is that same mapping made of
# symlinks, so mypy sees the modules under the names they are imported by
# (docs/TRAPS.md).
set -uo pipefail
cd "$(dirname "$0")/.."
packages=(api classification ingest retrieval store)
tree=build/typecheck/ragseal
rm -rf build/typecheck
mkdir -p "$tree"
for f in ragseal/*.py ragseal/py.typed; do ln -s "../../../$f" "$tree/${f#ragseal/}"; done
for p in "${packages[@]}"; do ln -s "../../../$p" "$tree/$p"; done
rc=0
.venv/bin/python -m ruff check ragseal "${packages[@]}" || rc=1
MYPYPATH=build/typecheck .venv/bin/python -m mypy --strict -p ragseal || rc=1
# The light client is its own distribution (clients/python), checked for Python 3.10.
.venv/bin/python -m ruff check clients/python/src || rc=1
(cd clients/python && MYPYPATH=src ../../.venv/bin/python -m mypy --strict -p ragseal_client) \
  || rc=1
exit $rc
