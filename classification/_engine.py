"""The Presidio ``AnalyzerEngine`` built from a policy.

:func:`build_engine` puts the registry's recognizers for the policy
(:mod:`._registry`) on the lean spaCy engine (:mod:`._spacy`) with a
context enhancer that places findings by bisection
(:func:`token_context_enhancer`). Without tagger and lemmatizer the
enhancer is fed lower-cased tokens as "lemmas"; it matches context words as
substrings, so ``employee`` still matches ``employees``. Presidio is
imported here only inside functions (``import presidio_analyzer`` takes
seconds).
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from typing import TYPE_CHECKING

from ._policy import Policy
from ._registry import LANGUAGE, NER_LABELS, build_recognizers
from ._spacy import ONTONOTES_LABELS, SPACY_MODEL, lean_spacy_engine

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer
    from spacy.language import Language

__all__ = ["build_engine", "nlp_of", "token_context_enhancer"]


def nlp_of(engine: AnalyzerEngine) -> Language:
    """The spaCy pipeline inside ``engine``."""
    nlp: Language = engine.nlp_engine.nlp[LANGUAGE]  # type: ignore[attr-defined]
    return nlp


def build_engine(policy: Policy) -> AnalyzerEngine:
    """An analyzer with the registry's recognizers for ``policy`` on the lean spaCy engine."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Built-in recognizers serve ``entities:`` only; a ``recognizers:`` rule
    # gets exactly its own patterns, even under a built-in type's name.
    builtin = frozenset(policy.entities)
    ner_entities = sorted(e for e in builtin if e in NER_LABELS)
    mapping = {label: e for e in ner_entities for label in NER_LABELS[e]}
    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": mapping,
            "labels_to_ignore": sorted(ONTONOTES_LABELS - set(mapping)),
        },
    }
    engine_class = lean_spacy_engine(with_ner=bool(ner_entities))
    nlp_engine = NlpEngineProvider(
        nlp_engines=(engine_class,), nlp_configuration=configuration
    ).create_engine()
    recognizers = build_recognizers(policy)
    nlp_engine.kept_stop_words = _context_stop_words(recognizers)  # type: ignore[attr-defined]
    # Never hand AnalyzerEngine an empty registry: it would load *every*
    # predefined recognizer. (A policy with no entity builds no engine.)
    assert recognizers  # noqa: S101 - entities is non-empty and all supported
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=0.0,
        context_aware_enhancer=token_context_enhancer()(
            context_prefix_count=5, context_suffix_count=2
        ),
    )


def _context_stop_words(recognizers: list[EntityRecognizer]) -> frozenset[str]:
    """Context words that spaCy lists as stop words (``call``), 3+ letters.

    Presidio drops stop words from the keywords it matches context against,
    so a recognizer's ``call`` never matched. Shorter ones (``at``) stay out:
    context is matched as a substring, and ``at`` is inside ``data``.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(
        w.lower() for r in recognizers for w in (r.context or [])
        if len(w) >= 3 and w.lower() in STOP_WORDS
    )


@functools.lru_cache(maxsize=1)
def token_context_enhancer() -> type:
    """Presidio's context enhancer, fed plain tokens, in O(log n) per finding.

    Presidio walks every token of the text to place each finding, checks
    candidates against a list of keywords, deep-copies every result, and
    logs the words around a finding at DEBUG level; on a 100k-character
    segment with many findings that is quadratic, and the log would hold document text. Same
    semantics here, except that words after are counted from the finding's
    last token: context is the ``context_prefix_count`` keywords before the
    finding's first token and ``context_suffix_count`` after its last one.
    """
    from presidio_analyzer import RecognizerResult
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts

    class TokenContextEnhancer(LemmaContextAwareEnhancer):
        def enhance_using_context(
            self,
            text: str,
            raw_results: list[RecognizerResult],
            nlp_artifacts: NlpArtifacts,
            recognizers: list[EntityRecognizer],
            context: list[str] | None = None,
        ) -> list[RecognizerResult]:
            # Presidio's loop without its ``copy.deepcopy`` of every result
            # (7% of analysis time): the results are this call's own, built
            # by ``AnalyzerEngine.analyze`` for this text. No debug logs.
            by_id = {r.id: r for r in recognizers}
            extra = [w.lower() for w in context or ()]
            if nlp_artifacts is None:
                return raw_results
            for result in raw_results:
                metadata = result.recognition_metadata or {}
                recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
                if recognizer is None or not recognizer.context:
                    continue
                if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                    continue
                words = self._extract_surrounding_words(
                    nlp_artifacts=nlp_artifacts,
                    word=text[result.start : result.end],
                    start=result.start,
                )
                supportive = self._find_supportive_word_in_context(
                    words + extra, recognizer.context, self.context_matching_mode
                )
                if supportive:
                    result.score = min(
                        max(
                            result.score + self.context_similarity_factor,
                            self.min_score_with_context_similarity,
                        ),
                        self.MAX_SCORE,
                    )
                    if result.analysis_explanation is not None:
                        result.analysis_explanation.set_supportive_context_word(supportive)
                        result.analysis_explanation.set_improved_score(result.score)
            return raw_results

        def _extract_surrounding_words(
            self, nlp_artifacts: NlpArtifacts, word: str, start: int
        ) -> list[str]:
            indices: list[int] = nlp_artifacts.tokens_indices
            if not indices:
                return [""]
            ends = getattr(nlp_artifacts, "token_ends", None)
            # The token holding ``start``, or the first one after it.
            i = max(bisect_right(indices, start) - 1, 0)
            end = ends[i] if ends else indices[i] + len(nlp_artifacts.tokens[i])
            if end <= start and i + 1 < len(indices):
                i += 1
            # A set, not Presidio's list: O(1) membership, same answers.
            keywords = getattr(nlp_artifacts, "keyword_set", None) or frozenset(
                nlp_artifacts.keywords
            )
            lemmas = nlp_artifacts.lemmas
            n_before, n_after = self.context_prefix_count, self.context_suffix_count
            # Words after the finding start after its *last* token (Presidio
            # counts from the first, so a number of several tokens hides them).
            last = max(bisect_right(indices, start + max(len(word), 1) - 1) - 1, i)
            before = self._add_n_words_backward(i, n_before, lemmas, keywords)  # type: ignore[arg-type]
            after = self._add_n_words_forward(last, n_after, lemmas, keywords)  # type: ignore[arg-type]
            return list(set(before + after))

    return TokenContextEnhancer
