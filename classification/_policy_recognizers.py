"""The steward's ``recognizers:`` rules as Presidio recognizers.

One pattern recognizer per rule with patterns (a ``validator`` drops matches
failing a checksum, :mod:`._checksums`) and one per deny list. Patterns run
as written: case-sensitive, multi-line; a pattern the regex engine refuses
stops the build with its key path.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ._checksums import CHECKSUMS
from ._errors import DetectorError
from ._policy import Policy

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

__all__ = ["policy_recognizers"]


def policy_recognizers(policy: Policy) -> list[EntityRecognizer]:
    """One recognizer per steward rule (patterns) plus one per deny list."""
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer

    out: list[EntityRecognizer] = []
    for i, rule in enumerate(policy.recognizers):
        path = f"recognizers[{i}]"
        context = list(rule.context)
        if rule.patterns:
            patterns = []
            for j, expression in enumerate(rule.patterns):
                try:
                    patterns.append(Pattern(f"{rule.entity}[{j}]", expression, rule.score))
                except ValueError:
                    raise DetectorError(
                        f"{path}.patterns[{j}]: not supported by the regex engine"
                    ) from None
            # As written: case-sensitive, so [A-Z] means upper case (Presidio's
            # default adds IGNORECASE|DOTALL); stewards can write (?i) themselves.
            factory = _validated_recognizer(rule.validator) if rule.validator else PatternRecognizer
            out.append(
                factory(
                    supported_entity=rule.entity,
                    name=f"policy.{path}",
                    patterns=patterns,
                    context=context,
                    global_regex_flags=regex.MULTILINE,
                )
            )
        if rule.deny_list:
            # A listed term is certain: score 1.0 unless the steward set one.
            score = rule.score if "score" in rule.model_fields_set else 1.0
            out.append(
                PatternRecognizer(
                    supported_entity=rule.entity,
                    name=f"policy.{path}.deny_list",
                    deny_list=list(rule.deny_list),
                    deny_list_score=score,
                    context=context,
                    global_regex_flags=regex.MULTILINE | regex.IGNORECASE,
                )
            )
    return out


@functools.lru_cache(maxsize=2)
def _validated_recognizer(validator: str) -> type:
    """A ``PatternRecognizer`` that drops matches failing the named checksum."""
    from presidio_analyzer import PatternRecognizer

    check = CHECKSUMS[validator]

    class ValidatedPatternRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return check(pattern_text)

    return ValidatedPatternRecognizer
