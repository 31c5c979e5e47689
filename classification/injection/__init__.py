"""Injection scoring: is a chunk trying to instruct the model that will read it?

:func:`score_injection` returns an :class:`InjectionScore` (0..1 and the
names of the signals that fired, never text). Signals and weights are
:data:`SIGNALS`; the attack families live in ``_families``, the hidden-text
checks in ``_hidden``, the decoding statistics in ``_text``. Regular
expressions and counts only: no model, no network, no data file.
"""

from ._score import SIGNALS, InjectionScore, score_injection

__all__ = ["SIGNALS", "InjectionScore", "score_injection"]
