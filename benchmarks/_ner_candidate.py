"""Run ragseal's detectors on a candidate spaCy NER (not shipped), for comparisons.

``use_ner(folder)`` makes every detector warmed up *afterwards* load its NER
from ``folder`` (e.g. what ``scripts/train_ner.py`` writes); detectors
already warmed keep the stock pipeline, so one process can time and score
both. Benchmarks only: it replaces a private loader of ``classification``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from spacy.language import Language


def use_ner(folder: Path) -> None:
    import spacy
    from ragseal.classification import _detectors

    stock = _detectors._load_spacy
    nlp = spacy.load(folder)
    if nlp.pipe_names != ["ner"]:
        raise SystemExit(f"{folder}: expected a pipeline with only 'ner', got {nlp.pipe_names}")

    @functools.lru_cache(maxsize=4)
    def load(model: str, with_ner: bool) -> Language:
        return nlp if with_ner else stock(model, with_ner)

    _detectors._load_spacy = load  # type: ignore[assignment]
