"""Secret recognizers: cloud keys, private keys, API tokens and passwords.

Small Presidio recognizers with their patterns declared as constants and a
check on every match (base32 alphabet, PEM body, JWT header, entropy,
placeholder values), so that documentation *about* secrets does not light
up like the secrets themselves. A finding covers the secret only, never the
keyword before it (``password = `` stays readable, the value is masked).

Entity types: ``AWS_ACCESS_KEY``, ``PRIVATE_KEY``, ``API_TOKEN``, ``PASSWORD``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from collections.abc import Sequence

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = [
    "SECRET_ENTITIES",
    "AwsAccessKeyRecognizer",
    "BearerTokenRecognizer",
    "JwtRecognizer",
    "KeywordSecretRecognizer",
    "KnownTokenRecognizer",
    "PasswordRecognizer",
    "PrivateKeyRecognizer",
    "secret_recognizers",
    "shannon_entropy",
]

_CASE_SENSITIVE = regex.MULTILINE
_CASE_INSENSITIVE = regex.MULTILINE | regex.IGNORECASE


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value`` (0.0 for an empty string)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def looks_random(value: str, min_length: int, min_entropy: float) -> bool:
    """Long, high-entropy, and not words: letters with digits or with case switches.

    ``kinetochore-microtubule`` is long and high-entropy but has neither a
    digit nor an upper-case letter after a lower-case one; a random
    base64/hex string of 20+ characters almost always has both.
    """
    if len(value) < min_length or shannon_entropy(value) < min_entropy:
        return False
    if not any(c.isalpha() for c in value):
        return False
    switches = sum(1 for a, b in zip(value, value[1:], strict=False) if a.islower() and b.isupper())
    return any(c.isdigit() for c in value) or switches >= 3


def _copy(patterns: Sequence[Pattern]) -> list[Pattern]:
    # Presidio caches the compiled regex on the Pattern object: one copy each.
    return [Pattern(p.name, p.regex, p.score) for p in patterns]


class AwsAccessKeyRecognizer(PatternRecognizer):
    """AWS access key ids: ``AKIA`` (long-term) or ``ASIA`` (STS) + 16 base32 chars."""

    ENTITY = "AWS_ACCESS_KEY"
    PATTERNS = (
        Pattern(
            "aws_access_key_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])", 0.9
        ),
    )
    CONTEXT = ("aws", "access", "key")

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            context=list(self.CONTEXT),
            global_regex_flags=_CASE_SENSITIVE,
        )


class PrivateKeyRecognizer(PatternRecognizer):
    """PEM private key blocks, the whole block from BEGIN to END.

    A block cut before its END line (a truncated paste, an answer stopped
    mid-way) is still found, up to the last body line. A block whose body
    is a placeholder (``...``) is not a key.
    """

    ENTITY = "PRIVATE_KEY"
    _HEADER = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    _FOOTER = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    # Body separators: real newlines, or literal "\n" as in JSON key files.
    _SEP = r"(?:\s|\\n|\\r)+"
    PATTERNS = (
        Pattern("pem_private_key", _HEADER + r".{0,65536}?" + _FOOTER, 1.0),
        Pattern(
            "pem_private_key_truncated",
            _HEADER
            + r"(?:"
            + _SEP
            + r"(?:[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info|Comment): ?[^\r\n\\]+))+",
            0.9,
        ),
    )
    MIN_BODY_CHARS = 64

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            global_regex_flags=_CASE_SENSITIVE | regex.DOTALL,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        body = regex.sub(r"-----[A-Z0-9 ]+-----", " ", pattern_text)
        body = regex.sub(
            r"(?m)^(?:Proc-Type|DEK-Info|Comment): ?.*$", " ", body.replace("\\n", "\n")
        )
        base64_chars = sum(len(run) for run in regex.findall(r"[A-Za-z0-9+/=]{16,}", body))
        return base64_chars < self.MIN_BODY_CHARS


class JwtRecognizer(PatternRecognizer):
    """JSON Web Tokens: three base64url segments whose header is JSON with ``alg``."""

    ENTITY = "API_TOKEN"
    PATTERNS = (
        Pattern(
            "jwt",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
            0.8,
        ),
    )

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            global_regex_flags=_CASE_SENSITIVE,
        )

    def validate_result(self, pattern_text: str) -> bool:
        segment = pattern_text.split(".", 1)[0]
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
            header = json.loads(raw)
        except (binascii.Error, ValueError):
            return False
        return isinstance(header, dict) and isinstance(header.get("alg"), str)


class BearerTokenRecognizer(PatternRecognizer):
    """The credential after ``Bearer`` (HTTP ``Authorization`` headers, curl lines)."""

    ENTITY = "API_TOKEN"
    PATTERNS = (Pattern("bearer_token", r"(?<=\bBearer[ \t]{1,8})[A-Za-z0-9\-._~+/]{16,}=*", 0.85),)
    MIN_ENTROPY = 3.0

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            global_regex_flags=_CASE_INSENSITIVE,
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        return not looks_random(pattern_text, 16, self.MIN_ENTROPY)


class KnownTokenRecognizer(PatternRecognizer):
    """Tokens whose vendor prefix makes them recognisable without context."""

    ENTITY = "API_TOKEN"
    PATTERNS = (
        Pattern("github_token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b", 0.95),
        Pattern("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{60,100}\b", 0.95),
        Pattern("gitlab_pat", r"\bglpat-[A-Za-z0-9_-]{20,}\b", 0.95),
        Pattern("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0.9),
        Pattern("stripe_secret_key", r"\b[sr]k_live_[A-Za-z0-9]{24,}\b", 0.95),
        Pattern("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0.9),
    )

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            global_regex_flags=_CASE_SENSITIVE,
        )


class KeywordSecretRecognizer(EntityRecognizer):
    """High-entropy strings within a few words after key/secret/token/password.

    The keyword may be part of an identifier (``GITHUB_TOKEN``,
    ``aws_secret_access_key``, ``apiKey``); the candidate must be at least
    ``MIN_LENGTH`` characters, mix character classes and reach
    ``MIN_ENTROPY`` bits per character, which rules out English words,
    repeated characters and most placeholders.
    """

    ENTITY = "API_TOKEN"
    KEYWORD = r"(?<![\w.-])[\w.-]*?(?:key|secret|token|passw(?:or)?d|pwd|credential|auth)[\w.-]*"
    CANDIDATE = r"(?<![A-Za-z0-9+/_~-])[A-Za-z0-9+/_~-]{20,}={0,2}(?![A-Za-z0-9+/_~=-])"
    MAX_WORDS_AFTER = 4
    MIN_LENGTH = 20
    MIN_ENTROPY = 3.5
    SCORE = 0.7

    def __init__(self) -> None:
        self._keyword = regex.compile(self.KEYWORD, regex.IGNORECASE)
        self._words = regex.compile(r"[^\s]+")
        self._candidate = regex.compile(self.CANDIDATE)
        super().__init__(supported_entities=[self.ENTITY], name=type(self).__name__)

    def load(self) -> None:  # nothing to load
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found: dict[tuple[int, int], RecognizerResult] = {}
        for keyword in self._keyword.finditer(text):
            line_end = text.find("\n", keyword.end())
            window_end = len(text) if line_end < 0 else line_end
            words = 0
            for word in self._words.finditer(text, keyword.end(), window_end):
                words += 1
                if words > self.MAX_WORDS_AFTER:
                    break
                for cand in self._candidate.finditer(text, word.start(), word.end()):
                    value = cand.group()
                    if "://" in text[word.start() : word.end()]:
                        continue  # a URL, not a credential
                    if looks_random(value.rstrip("="), self.MIN_LENGTH, self.MIN_ENTROPY):
                        found[cand.span()] = self._result(*cand.span())
        return list(found.values())

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=self.SCORE,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


# A key whose name says "password": db_password, PASSWORD, "passwd", pwd.
_PW_KEY = r"(?<![\w.-])[\w.-]*(?:passw(?:or)?d|pwd|passphrase)[\w.-]*[\"']?[ \t]*"
_PW_ASSIGN = _PW_KEY + r"(?:=>|:=|=|:)[ \t]*"
_PW_VALUE = r"[^\s\"'`,;(){}\[\]<>]{1,256}"


class PasswordRecognizer(PatternRecognizer):
    """Passwords in connection strings and config lines: the value only.

    ``postgres://user:s3cret@host`` -> ``s3cret``; ``password = s3cret``,
    ``"db_password": "s3cret"``, ``--password s3cret`` -> ``s3cret``.
    After a colon the value must end its line (``Password: must be long``
    is prose, ``password: s3cret`` is YAML). Placeholders (``${VAR}``,
    ``<password>``, ``****``, type names) are not passwords.
    """

    ENTITY = "PASSWORD"
    PATTERNS = (
        Pattern(
            "url_userinfo_password",
            r"(?<=\b[a-z][a-z0-9+.\-]{1,30}://[^\s:/@]{1,128}:)[^\s@/]{1,256}(?=@)",
            0.85,
        ),
        Pattern("config_password_dq", r"(?<=" + _PW_ASSIGN + r"\")[^\"\r\n]{1,256}(?=\")", 0.75),
        Pattern("config_password_sq", r"(?<=" + _PW_ASSIGN + r"')[^'\r\n]{1,256}(?=')", 0.75),
        Pattern(
            "config_password_assign",
            r"(?<=" + _PW_KEY + r"(?:=>|:=|=)[ \t]*)" + _PW_VALUE + r"(?=[\s\"'`,;]|$)",
            0.7,
        ),
        Pattern(
            "config_password_colon",
            r"(?<=" + _PW_KEY + r":[ \t]*)" + _PW_VALUE + r"(?=[ \t]*(?:$|[#,;]))",
            0.7,
        ),
        Pattern(
            "cli_password",
            r"(?<=(?:^|\s)--?[\w-]*passw(?:or)?d(?:=|[ \t]+)[\"']?)[^\s\"']{1,256}",
            0.75,
        ),
    )
    MIN_LENGTH = 4
    PLACEHOLDERS = frozenset(
        {
            "str", "string", "bytes", "secretstr", "optional", "none", "null", "nil",
            "true", "false", "required", "undefined", "redacted", "hidden",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            global_regex_flags=_CASE_INSENSITIVE,
        )

    # Every pattern needs one of these (case-folded): a text without them is
    # skipped before six look-behind regexes walk it (most prose).
    HINTS = ("passw", "pwd", "passphrase", "://")

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        folded = text.casefold()
        if not any(hint in folded for hint in self.HINTS):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)

    def invalidate_result(self, pattern_text: str) -> bool:
        value = pattern_text.strip()
        if len(value) < self.MIN_LENGTH or value.lower() in self.PLACEHOLDERS:
            return True
        if value[0] in "$%<{" or value.startswith("os.") or value.startswith("env."):
            return True  # a variable, template or code reference
        return len(set(value)) == 1 or set(value) <= set("*•xX.")


def secret_recognizers(entities: frozenset[str] | set[str]) -> list[EntityRecognizer]:
    """The secret recognizers for the requested entity types."""
    recognizers: list[EntityRecognizer] = []
    if "AWS_ACCESS_KEY" in entities:
        recognizers.append(AwsAccessKeyRecognizer())
    if "PRIVATE_KEY" in entities:
        recognizers.append(PrivateKeyRecognizer())
    if "API_TOKEN" in entities:
        recognizers += [
            JwtRecognizer(),
            BearerTokenRecognizer(),
            KnownTokenRecognizer(),
            KeywordSecretRecognizer(),
        ]
    if "PASSWORD" in entities:
        recognizers.append(PasswordRecognizer())
    return recognizers


SECRET_ENTITIES: frozenset[str] = frozenset(
    {"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"}
)
