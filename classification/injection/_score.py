"""Injection score of a chunk: is this text trying to instruct a model?

Indirect prompt injection (OWASP LLM01) hides instructions for the chatbot
inside a document that is later pasted into its prompt.
:func:`score_injection` looks for two kinds of evidence, each a named
*signal* with a fixed weight:

- **attack families**: instruction-like text aimed at a model (override of
  earlier instructions, role or mode switch, prompt extraction, directives
  about "your response", exfiltration links, code to slip into "your
  code", a stand-alone task request or question inserted in a document);
- **hidden text**: zero-width, bidi or Unicode tag characters, HTML comments,
  long encoded blobs, and text the loader found hidden in its file
  (white-on-white or invisible PDF text, ``display:none`` HTML).

The score is a noisy-OR of the weights of the signals present, so one strong
signal suffices and weak ones add up. Signals are names, never text: the
result can be logged, stored in the payload and shown to a steward.

Everything is regular expressions over the chunk: no model, no network, no
data file (weights were set by hand on development data, never on the test
sets reported in ``benchmarks/README.md``; see ``docs/INJECTION.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._families import FAMILY_CHECKS
from ._hidden import HIDDEN_CHECKS, visible

__all__ = ["SIGNALS", "InjectionScore", "score_injection"]


@dataclass(frozen=True, slots=True)
class InjectionScore:
    """How instruction-like a text is (0..1) and which signals said so."""

    score: float
    signals: tuple[str, ...]


# Weight of each signal (noisy-OR). >= 0.8 alone: high-confidence attack.
SIGNALS: dict[str, float] = {
    "override_instructions": 0.9,
    "role_switch": 0.6,
    "prompt_extraction": 0.6,
    "output_directive": 0.75,
    "model_address": 0.6,
    "code_injection": 0.8,
    "secret_request": 0.6,
    "decode_request": 0.5,
    "code_directive": 0.3,
    "risky_code": 0.3,
    "exfiltration": 0.8,
    "task_request": 0.55,
    "question_to_model": 0.5,
    "unicode_tags": 0.9,
    "zero_width": 0.4,
    "bidi_control": 0.4,
    "private_use": 0.2,
    "html_comment": 0.2,
    "encoded_blob": 0.3,
    "hidden_text": 0.5,
    "hypothetical_framing": 0.55,
    "persuasion": 0.55,
    "personal_data_request": 0.55,
    "payload_splitting": 0.6,
    "smuggled_text": 0.6,
    "foreign_request": 0.55,
}


def score_injection(text: str, *, hidden: bool = False) -> InjectionScore:
    """Score ``text`` (one chunk). ``hidden``: the loader found text hidden
    from a human reader in this chunk (white or invisible PDF text, hidden
    HTML), which is itself a signal."""
    plain = visible(text)
    found = []
    for name in SIGNALS:  # in the table's order: the signals tuple is stable
        if name in FAMILY_CHECKS:
            present = FAMILY_CHECKS[name](plain)
        elif name in HIDDEN_CHECKS:
            present = HIDDEN_CHECKS[name](text, plain)
        else:  # "hidden_text": the loader's word, not the text's
            present = hidden
        if present:
            found.append(name)
    miss = 1.0
    for name in found:
        miss *= 1.0 - SIGNALS[name]
    return InjectionScore(score=round(1.0 - miss, 3), signals=tuple(found))
