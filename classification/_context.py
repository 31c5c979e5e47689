"""Context before a match: the one helper every recognizer uses for it.

Many identifiers are numbers like any other until a phrase before them says
what they are (``driver's license``, ``account number``, ``MRN``, ``fax``).
Presidio's context enhancer only raises a score, which a low ``min_score``
bypasses; these recognizers *require* the phrase instead.

:func:`phrase_before` asks whether a compiled pattern matches in the
``window`` characters before an offset (``$`` in the pattern anchors at the
offset; no copy of the text is made). :class:`PhraseRequiredRecognizer` is
the Presidio side: a pattern recognizer whose matches are kept only with
their phrase before them, and then score at least ``PHRASE_SCORE``.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex
from presidio_analyzer import PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["PhraseRequiredRecognizer", "phrase_before"]

# A pathological pattern on a hostile text stops here (regex raises TimeoutError).
_TIMEOUT_S = 1.0


def phrase_before(phrase: regex.Pattern[str], text: str, start: int, window: int) -> bool:
    """Whether ``phrase`` matches within the ``window`` characters before ``start``."""
    return phrase.search(text, max(0, start - window), start, timeout=_TIMEOUT_S) is not None


class PhraseRequiredRecognizer(PatternRecognizer):
    """A pattern recognizer whose matches need ``PHRASE`` just before them.

    Subclasses set ``PHRASE`` (None: every match counts), ``WINDOW`` and
    ``PHRASE_SCORE`` (a kept match scores at least this; None: as matched),
    and may narrow :meth:`needs_phrase` to some of their patterns. Put it
    first among the bases to gate a predefined recognizer:
    ``class X(PhraseRequiredRecognizer, UsBankRecognizer)``.
    """

    PHRASE: regex.Pattern[str] | None = None
    WINDOW = 48
    PHRASE_SCORE: float | None = None
    #: A pattern that matches inside every match of ``PHRASE`` (its key word,
    #: same flags): where every match needs the phrase, a text without it
    #: has no result, and the recognizer's patterns are not run at all.
    PHRASE_GATE: regex.Pattern[str] | None = None

    def needs_phrase(self, result: RecognizerResult) -> bool:
        """Whether this match counts only with the phrase before it (all, by default)."""
        return True

    def analyze(
        self,
        text: str,
        entities: Sequence[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        gate = self.PHRASE_GATE
        if (gate is not None and type(self).needs_phrase is PhraseRequiredRecognizer.needs_phrase
                and gate.search(text, timeout=_TIMEOUT_S) is None):
            return []
        results: list[RecognizerResult] = super().analyze(
            text, list(entities), nlp_artifacts, regex_flags
        )
        phrase = self.PHRASE
        if phrase is None:
            return results
        kept = []
        for r in results:
            if not self.needs_phrase(r):
                kept.append(r)
            elif phrase_before(phrase, text, r.start, self.WINDOW):
                if self.PHRASE_SCORE is not None:
                    r.score = max(r.score, self.PHRASE_SCORE)
                kept.append(r)
        return kept
