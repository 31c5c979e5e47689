"""Parsing and classification in a process pool (``ragseal ingest --workers N``).

spaCy NER holds the GIL: on several cores only processes run it in
parallel. Each worker process loads the policy's classifier once (spawned,
not forked: the parent has ONNX Runtime and torch threads that a fork would
copy in an unusable state) and returns the document text with its findings.
Everything durable (keys, seals, embeddings, upserts, the version switch)
stays in the parent, in file order, so crash consistency is unchanged.

A task is a few files (``ingest._runner.TASK_FILES``), classified together
in one ``nlp.pipe`` batch. Backpressure: at most ``2 x workers`` tasks are in
flight, so memory stays bounded however many files the run covers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragseal.classification import Finding, Policy

__all__ = ["ParsePool", "Parsed"]

_classifier: Any = None

Span = tuple[str, int, int, float, str]


@dataclass(frozen=True)
class Parsed:
    """A worker's answer: the text and its classification, or a refusal reason."""

    text: str
    findings: tuple[Finding, ...]
    marker_level: int | None
    error: str | None = None
    hidden: tuple[tuple[int, int], ...] = ()

    def __repr__(self) -> str:  # never the text
        return f"Parsed(len={len(self.text)}, findings={len(self.findings)}, error={self.error!r})"


def _init(policy: Policy) -> None:
    from ragseal.classification import Classifier, ensure_offline

    ensure_offline()
    global _classifier
    _classifier = Classifier(policy)
    _classifier.warm_up()


_Answer = tuple[str, tuple[Span, ...], int | None, str | None, tuple[tuple[int, int], ...]]


def _parse(paths: list[str]) -> list[_Answer]:
    """Load several files and classify them in one batch (in a worker).
    Only reasons, never text, on error."""
    from ._loaders import LoadedDocument, LoadError, load_document

    out: list[_Answer] = []
    loaded: list[tuple[int, LoadedDocument]] = []  # (slot in out, document)
    for path in paths:
        try:
            loaded.append((len(out), load_document(Path(path))))
            out.append(("", (), None, None, ()))  # filled below, once classified
        except LoadError as exc:
            out.append(("", (), None, str(exc), ()))
        except Exception as exc:  # a parser bug must refuse one file, not stop the run
            out.append(("", (), None, f"cannot load document: {type(exc).__name__}", ()))
    results = _classifier.classify_many([d.text for _, d in loaded]) if loaded else []
    for (slot, document), result in zip(loaded, results, strict=True):
        spans = tuple((f.entity, f.start, f.end, f.score, f.detector) for f in result.findings)
        out[slot] = (document.text, spans, result.marker_level, None, document.hidden)
    return out


class ParsePool:
    """A bounded pool of classifier processes for one policy."""

    def __init__(self, policy: Policy, workers: int) -> None:
        # The Policy itself crosses (pickled), not its JSON: parsing the dump
        # marks every field as set, and a deny list's score would change
        # from 1.0 to the dumped default (docs/TRAPS.md).
        if workers < 2:
            raise ValueError("a parse pool needs at least 2 workers")
        self.workers = workers
        self.max_in_flight = 2 * workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init,
            initargs=(policy,),
        )

    def submit(self, paths: Sequence[Path]) -> Future[list[_Answer]]:
        """Parse and classify ``paths`` in one task (one ``nlp.pipe`` batch)."""
        return self._pool.submit(_parse, [str(p) for p in paths])

    @staticmethod
    def results(future: Future[list[_Answer]]) -> list[Parsed]:
        """The task's answers, one per path, in order."""
        out = []
        for text, spans, marker, error, hidden in future.result():
            findings = tuple(Finding(e, s, t, sc, d) for e, s, t, sc, d in spans)
            out.append(Parsed(text, findings, marker, error, hidden))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
