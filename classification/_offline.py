"""Keep the stack offline: no model hub, no analytics, no public-suffix fetch.

These variables must be set before the libraries that read them are
imported (tldextract reads its URL list when spaCy loads Presidio's entry
points; unstructured phones home on import). Every entry point calls
:func:`ensure_offline` first; the packages' ``__init__`` call it too, so
any way in is covered. Values already set by the operator are kept.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_ENV", "RUNTIME_ENV", "ensure_offline"]

OFFLINE_ENV: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_DATASETS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "TOKENIZERS_PARALLELISM": "false",
    "ANONYMIZED_TELEMETRY": "False",
    # Model loading progress bars are noise on a CLI's stderr.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",
}


# Not about the network, but read at the same moment (library load), so set
# here too. numpy's OpenBLAS, started with its default of one thread per
# core, makes spaCy's NER (thinc's small matrix products) about 25% slower
# on these machines, and lowering the count at run time (threadpoolctl) does
# not win it back: only the start-up value does. The embedder (ONNX Runtime,
# torch) keeps its own thread pools. docs/TRAPS.md has the measurement.
RUNTIME_ENV: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1"}


def ensure_offline() -> None:
    """Set the offline and runtime variables (idempotent; operator values win)."""
    for key, value in {**OFFLINE_ENV, **RUNTIME_ENV}.items():
        os.environ.setdefault(key, value)
