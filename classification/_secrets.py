"""Secret recognizers: cloud keys, private keys, API tokens and passwords.

Small Presidio recognizers with their patterns declared as constants and a
check on every match (base32 alphabet, PEM body, JWT header, entropy,
placeholder values), so that documentation *about* secrets does not light
up like the secrets themselves. A finding covers the secret only, never the
keyword before it (``password = `` stays readable, the value is masked).

Entity types: ``AWS_ACCESS_KEY``, ``PRIVATE_KEY``, ``API_TOKEN``, ``PASSWORD``.

Why one module of this size: the recognizers share the value checks
(entropy, identifier, reference, placeholder, short-secret rules) that make
them agree on what a secret is; the vendor formats are data in
``_secret_patterns``.
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

from ._context import phrase_before
from ._secret_patterns import (
    TOKEN_RULES,
    body_ok,
    counts_in_short,
    is_counting,
    is_filler,
    is_placeholder,
    is_placeholder_word,
)
from ._vendor_keywords import VENDOR_KEYWORDS

__all__ = [
    "AssignedSecretRecognizer",
    "AwsAccessKeyRecognizer",
    "BearerTokenRecognizer",
    "JwtRecognizer",
    "KeywordSecretRecognizer",
    "KnownTokenRecognizer",
    "PasswordRecognizer",
    "PrivateKeyRecognizer",
    "QuotedHighEntropyRecognizer",
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


class _DeclaredPatterns(PatternRecognizer):
    """A pattern recognizer declared by its class: ``ENTITY``, ``PATTERNS``,
    ``CONTEXT`` words and regex ``FLAGS``.

    ``GATE``: a regex that every match of every pattern implies (a literal
    the patterns require, matched with the same flags); a text it is not
    found in is not scanned. Empty: no gate.
    """

    ENTITY = ""
    PATTERNS: tuple[Pattern, ...] = ()
    CONTEXT: tuple[str, ...] = ()
    FLAGS = _CASE_SENSITIVE
    GATE = ""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=_copy(self.PATTERNS),
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )
        self._gates: dict[int, regex.Pattern[str]] = {}

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        if self.GATE:
            flags = regex_flags or self.global_regex_flags or 0
            gate = self._gates.get(flags)
            if gate is None:
                gate = self._gates[flags] = regex.compile(self.GATE, flags)
            if gate.search(text) is None:
                return []
        results: list[RecognizerResult] = super().analyze(
            text, entities, nlp_artifacts, regex_flags
        )
        return results


class _Scanner(EntityRecognizer):
    """A recognizer of ``ENTITY`` with its own ``analyze`` and no model to load."""

    ENTITY = ""

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name=type(self).__name__)

    def load(self) -> None:  # nothing to load
        pass


class AwsAccessKeyRecognizer(_DeclaredPatterns):
    """AWS access key ids: ``AKIA`` (long-term) or ``ASIA`` (STS) + 16 base32 chars."""

    ENTITY = "AWS_ACCESS_KEY"
    PATTERNS = (
        Pattern(
            "aws_access_key_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z2-7]{16}(?![A-Za-z0-9])", 0.9
        ),
    )
    CONTEXT = ("aws", "access", "key")

    def invalidate_result(self, pattern_text: str) -> bool:
        # Only a filler run (AKIAXXXXXXXXXXXXXXXX) is a placeholder here: the ID's
        # shape is strict already, and AWS's documented AKIAIOSFODNN7EXAMPLE is
        # pasted into real runbooks, where the floor must mask it (fail closed).
        return is_filler(pattern_text)


class PrivateKeyRecognizer(_DeclaredPatterns):
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

    FLAGS = _CASE_SENSITIVE | regex.DOTALL

    def invalidate_result(self, pattern_text: str) -> bool:
        body = regex.sub(r"-----[A-Z0-9 ]+-----", " ", pattern_text)
        body = regex.sub(
            r"(?m)^(?:Proc-Type|DEK-Info|Comment): ?.*$", " ", body.replace("\\n", "\n")
        )
        base64_chars = sum(len(run) for run in regex.findall(r"[A-Za-z0-9+/=]{16,}", body))
        return base64_chars < self.MIN_BODY_CHARS


class JwtRecognizer(_DeclaredPatterns):
    """JSON Web Tokens: base64url segments whose header is JSON with ``alg``.

    Three segments, or two when the payload is JSON too (a token whose
    signature was cut off still carries its claims).
    """

    ENTITY = "API_TOKEN"
    PATTERNS = (
        Pattern(
            "jwt",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?",
            0.8,
        ),
    )


    def validate_result(self, pattern_text: str) -> bool:
        segments = pattern_text.split(".")
        header = _json_segment(segments[0])
        if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
            return False
        # Header and payload only (the signature cut off): the payload must be JSON too.
        return len(segments) > 2 or isinstance(_json_segment(segments[1]), dict)


def _json_segment(segment: str) -> object:
    """A base64url JSON segment decoded, or None."""
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return None


class BearerTokenRecognizer(_DeclaredPatterns):
    """The credential after ``Bearer`` (HTTP ``Authorization`` headers, curl lines)."""

    ENTITY = "API_TOKEN"
    PATTERNS = (Pattern("bearer_token", r"(?<=\bBearer[ \t]{1,8})[A-Za-z0-9\-._~+/]{16,}=*", 0.85),)
    # The pattern's look-behind, tried at every position, was most of its cost
    # (18 ms per 100k characters of prose); a match implies the word.
    GATE = r"\bBearer[ \t]"
    MIN_ENTROPY = 3.0

    FLAGS = _CASE_INSENSITIVE

    def invalidate_result(self, pattern_text: str) -> bool:
        return not looks_random(pattern_text, 16, self.MIN_ENTROPY)


class KnownTokenRecognizer(_Scanner):
    """Tokens whose vendor prefix makes them recognisable without context.

    The formats are data (:data:`._secret_patterns.TOKEN_RULES`): a rule's
    regex runs only when one of its keywords is in the text (most texts hold
    none), and a match counts only when its random part reaches the rule's
    entropy and is no placeholder (``ghp_xxxx...``, ``...EXAMPLE``).
    """

    ENTITY = "API_TOKEN"

    def __init__(self) -> None:
        self._rules = [
            (rule, regex.compile(rule.pattern, _CASE_INSENSITIVE if rule.case_insensitive
                                 else _CASE_SENSITIVE))
            for rule in TOKEN_RULES
        ]
        super().__init__()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        folded = text.lower()
        out: list[RecognizerResult] = []
        seen: set[tuple[int, int]] = set()
        for rule, compiled in self._rules:
            if not any(k in folded for k in rule.keywords):
                continue
            for m in compiled.finditer(text, timeout=1.0):
                groups = m.groupdict()
                body = groups.get("body") or groups.get("body2") or m.group()
                if not body_ok(body, rule.min_entropy) or is_counting(m.group()):
                    continue
                start, end = m.span("secret") if groups.get("secret") else m.span()
                if (start, end) not in seen:  # one finding per span, first rule wins
                    seen.add((start, end))
                    out.append(_result(self, start, end, rule.score, rule.name))
        return out


def _result(
    recognizer: EntityRecognizer, start: int, end: int, score: float, pattern: str = ""
) -> RecognizerResult:
    return RecognizerResult(
        entity_type=recognizer.supported_entities[0],
        start=start,
        end=end,
        score=score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: type(recognizer).__name__,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            "pattern": pattern,
        },
    )


_IDENTIFIER_PART = regex.compile(r"[A-Za-z]{2,}|[A-Za-z0-9]{1,4}")


def looks_like_identifier(value: str) -> bool:
    """A name in code, not a secret: ``X509_pubkey_st``, ``XXH3_SECRET_SIZE_MIN``, ``db.pass``.

    Two or more parts joined by ``_``, ``.`` or ``-``, each a run of letters or
    a short alphanumeric piece; a random string has long mixed parts.
    """
    parts = regex.split(r"[_.-]+", value.strip("_.-"))
    if len(parts) < 2:
        return False
    return all(_IDENTIFIER_PART.fullmatch(p) for p in parts) and any(
        len(p) >= 3 and p.isalpha() for p in parts
    )


# Lower-case labels, the last two a word and a top-level domain.
_HOST = regex.compile(r"(?:[a-z0-9-]+\.)*[a-z]{4,}\.[a-z]{2,6}")


def looks_like_host(value: str) -> bool:
    """A host name (``4f2a9c.example.net``): it names a server, not a key."""
    return bool(_HOST.fullmatch(value))


def looks_like_reference(value: str) -> bool:
    """A variable, template or code reference standing where a value would be."""
    v = value.strip("\"'`")
    if not v or v[0] in "$%<{@" or v.startswith(("os.", "env.", "process.env", "var.", "self.",
                                                "this.", "config.", "settings.", "local.")):
        return True
    # a.b.c of identifier-like parts (few digits each): sat.f9fe5e2pwnsbfue08gc6lq is a token
    return bool(regex.fullmatch(r"[A-Za-z_][A-Za-z_]*\d{0,2}(?:\.[A-Za-z_][A-Za-z_]*\d{0,2})+"
                                r"(?:\(\))?", v))


# UUIDs after a credential word are ids far more often than credentials
# (npm's ``_authToken=<uuid>`` is a table rule of its own).
# Right after a value: an ellipsis or a mask run says the example was cut short.
# Right after a value: an ellipsis (two dots or more), a mask run or a
# redaction mark says the example was cut short; "(" says it is a call.
_MASKED = r"(?i)\.{2,}|\u2026|#{3,}|\*{3,}|\[redacted\]"
_ELIDED = regex.compile(_MASKED + r"|\(")
_HEX = regex.compile(r"(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]+")
_UUID = regex.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def _sequential(value: str, run: int) -> bool:
    """``run`` consecutive characters each one more than the last (``abcd``, ``1234``)."""
    count = 1
    for a, b in zip(value, value[1:], strict=False):
        count = count + 1 if ord(b) - ord(a) == 1 else 1
        if count >= run:
            return True
    return False


_LETTER_RUN = regex.compile(r"(?<![A-Za-z])(?:[A-Z]?[a-z]{6,}|[A-Z]{7,})(?![a-z])")
_VOWELS = frozenset("aeiouyAEIOUY")
_LOWER_RUN = regex.compile(r"[a-z]{3,}")


def _wordlike(run: str) -> bool:
    """A run of letters that reads as a word: words carry about two vowels in
    five letters, a random run one in five (``znzudl`` is no word)."""
    return sum(c in _VOWELS for c in run) / len(run) >= 0.3


def short_secret_ok(value: str, quoted: bool = False) -> bool:
    """A short value (8-19 chars) right after ``key =`` that still looks generated.

    Letters and digits both (or, ``quoted`` and from 10 characters, letters
    whose case flips 4+ times: ``'vZrEclFwOqeA'``; unquoted that is a camelCase
    variable, ``blitAppKey``), at least two letters' cases or a symbol, no
    dictionary-looking runs, entropy near the maximum for its length.
    """
    n = len(value)
    if n < 8 or is_placeholder(value) or looks_like_identifier(value) or counts_in_short(value):
        return False
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    if letters < 2:
        return False
    if not digits:
        if not quoted:
            return False
        flips = sum(a.isalpha() and b.isalpha() and a.islower() != b.islower()
                    for a, b in zip(value, value[1:], strict=False))
        if n < 10 or flips < 4 or any(
                sum(c in _VOWELS for c in m.group()) * 3 >= len(m.group())
                for m in _LOWER_RUN.finditer(value)):
            return False  # words or a camelCase name ("getUserName"), not generated
    classes = sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                   any(not c.isalnum() for c in value)))
    if classes < 2 and not (digits >= 2 and letters >= 3):
        return False
    if any(_wordlike(m.group()) for m in _LETTER_RUN.finditer(value)) or _sequential(
            value.lower(), 4):
        return False  # a word inside, or counting (abc12345): not generated
    if _HEX.fullmatch(value):
        # Hex has 16 symbols: 5% of random 12-character hex strings measure
        # under 2.6 bits (half under 3.0, the bar below).
        return shannon_entropy(value) >= min(3.0, 0.8 * math.log2(n) - 0.25)
    return shannon_entropy(value) >= min(3.0, math.log2(n) - 0.4)


# Inside an unquoted value, the next key of a connection string or a query
# (``abc;User Id=bob``, ``abc&user=bob``) ends it.
_NEXT_PAIR = regex.compile(r"[;&][A-Za-z_][\w .-]{0,30}=")
# Characters that end a value on its left (an operator, an opening bracket)
# and on either side (space, quotes, angle brackets).
_VALUE_EDGE = "\"'`<>\u201c\u201d\u2018\u2019"
_VALUE_LEFT_EDGE = _VALUE_EDGE + "=:(,[{"


def whole_value(text: str, start: int, end: int, floor: int, limit: int) -> tuple[int, int]:
    """The span of the whole value around a found part of it.

    A candidate stops at characters a token rarely holds (``&``, ``!``,
    ``{``); a password or a hand-made key holds them all the same, and a
    mask that covers ``Tr0ub4dor`` of ``Tr0ub4dor&3x!`` leaves the rest in
    clear. The value runs to the next space or quote on the right (up to
    ``limit``, not into the next ``&key=`` / ``;key=`` pair; punctuation
    alone after a whole token, ``...0aY.``, ends a sentence) and to the
    operator or ``floor`` (the key's end) on the left.
    """
    stop = limit
    pair = _NEXT_PAIR.search(text, end, limit)
    if pair:
        stop = pair.start()
    grown = end
    while grown < stop and not text[grown].isspace() and text[grown] not in _VALUE_EDGE:
        grown += 1
    if text[end:grown].strip(".,;:)]}"):
        end = grown  # more than a sentence's punctuation follows: part of the value
    while start > floor and not text[start - 1].isspace() and \
            text[start - 1] not in _VALUE_LEFT_EDGE:
        start -= 1
    return start, end


class KeywordSecretRecognizer(_Scanner):
    """High-entropy strings after key/secret/token/password, or inside such an element.

    The keyword may be part of an identifier (``GITHUB_TOKEN``,
    ``aws_secret_access_key``, ``apiKey``). Where the value may be:

    - within ``MAX_WORDS_AFTER`` words after it on the same line;
    - inside an XML element named by it (``<gitlabToken>...</gitlabToken>``,
      the value on the next lines);
    - on the next line when the keyword names a key/value pair
      (``- name: FACEBOOK_TOKEN`` then ``value: "..."``).

    A candidate of ``MIN_LENGTH``+ characters must mix character classes and
    reach ``MIN_ENTROPY`` bits per character; a shorter one (8+) counts only
    as the value assigned to the keyword (``api_key = "Zx8qP2mL9vT4"``) and
    must pass :func:`short_secret_ok`. Code identifiers, variable references,
    placeholders and UUIDs are not secrets.
    """

    ENTITY = "API_TOKEN"
    KEYWORD = (
        r"(?<![\w.-])[\w.-]*?(?:key|secret|token|passw(?:or)?d|pwd|credential|auth|pass\b"
        r"|api[_-]?key|client[_-]?secret)[\w.-]*"
    )
    CANDIDATE = (
        r"(?<![A-Za-z0-9+/_~.-])[A-Za-z0-9+/_~-](?:[A-Za-z0-9+/_~.=-]|:(?=[A-Za-z0-9])){6,}"
        r"[A-Za-z0-9+/_~-]={0,2}"
        r"(?![A-Za-z0-9+/_~=-])"
    )
    # A UUID or a long number is a credential only when assigned to a key named
    # for one (``herokuToken = "<uuid>"``), not to an id (``token_id``).
    _CREDENTIAL_NAME = regex.compile(r"(?i)(?:token|secret|passw|pwd|api_?key|auth)(?!\w*id\b)"
                                     r"(?!.*(?:_id|Id)$)")
    MAX_WORDS_AFTER = 4
    MIN_LENGTH = 20
    MIN_ENTROPY = 3.5
    MIN_HEX_ENTROPY = 3.0
    SCORE = 0.7
    # Right after the keyword: the end of its name, an operator, a quote.
    # (``key: v``, ``key = "v"``, ``key - 'v'``, ``Key("v")``).
    # A declared type may stand between the name and the operator (Go's ``var
    # herokuToken string = "..."``), and the operator be PHP's ``.=``, Make's
    # ``?=`` / ``:::=``.
    _TYPE = r"(?:[ \t]+(?:string|String|str|&str|char\*?|const))?"
    _ASSIGNED = regex.compile(
        r"[\"'`]?" + _TYPE + r"\s*(?:[:=]{1,4}|[.?+]=|=>|!==?|===?|,|-(?=\s)|\s)?\s*(?:\(\s*)?"
        r"[\"'`]?\s*$")
    _LITERAL = regex.compile(
        r"[\"'`]?" + _TYPE + r"[ \t]*(?:[:=]{1,4}|[.?+]=|=>|-(?=\s)|[ \t])?[ \t]*(?:\([ \t]*)?"
        r"([\"'`])([^\s\"'`]{8,256})\1")
    _XML_OPEN = regex.compile(r"<([\w.:-]+)[^<>\n]*>\s*$")
    _NEXT_VALUE = regex.compile(
        r"[ \t]*(?:-[ \t]*)?[\"']?value[\"']?[ \t]*[:=][ \t]*[\"']?([^\s\"']+)"
    )

    # A vendor's name as a whole word or the first part of an identifier
    # (``cloze``, ``CLOZE_ID``, ``clozeKey``), not inside a longer word.
    # After ".", "/", "#", "-" or "@" it is a member, a path, a selector or a
    # host (``.pusher{``, ``api.cloudsmith.io``), not a key's name.
    # Every KEYWORD match holds one of these (case-folded, as the regex folds):
    # a text without them (most prose) skips that regex.
    _STEMS = ("key", "secret", "token", "pass", "pwd", "credential", "auth")
    _WORD_START = regex.compile(r"(?<![\w.#@/\\-])[A-Za-z][A-Za-z0-9]{3,}")
    _IDENTIFIER = regex.compile(r"[A-Za-z][\w.-]*")
    _VENDOR_MAX = max(map(len, VENDOR_KEYWORDS))

    def __init__(self) -> None:
        self._keyword = regex.compile(self.KEYWORD, regex.IGNORECASE)
        self._words = regex.compile(r"[^\s]+")
        self._candidate = regex.compile(self.CANDIDATE)
        super().__init__()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found: dict[tuple[int, int], RecognizerResult] = {}
        folded = text.casefold()
        keywords = [(k, False) for k in self._keyword.finditer(text, timeout=1.0)] if any(
            stem in folded for stem in self._STEMS) else []
        keywords += [(k, True) for k in self._vendor_names(text)]
        for keyword, vendor in keywords:
            for start, end in self._candidates(text, keyword, vendor):
                found.setdefault((start, end), _result(self, start, end, self.SCORE, "keyword"))
        return list(found.values())

    def _vendor_names(self, text: str) -> list[regex.Match[str]]:
        """Identifiers that start with a vendor's name ending at a word edge: the
        end of the word, or an upper-case letter (``HubSpotAPI``). A set lookup
        per word: a regex alternation of 600 names, case-insensitive, walked
        every position at a fifth of the speed."""
        out = []
        for word in self._WORD_START.finditer(text, timeout=1.0):
            value = word.group()
            folded = value.lower()
            if folded in VENDOR_KEYWORDS or (not value[1:].islower() and any(
                    value[end].isupper() and folded[:end] in VENDOR_KEYWORDS
                    for end in range(4, min(len(value), self._VENDOR_MAX + 1)))):
                found = self._IDENTIFIER.match(text, word.start())
                if found:
                    out.append(found)
        return out

    def _candidates(
        self, text: str, keyword: regex.Match[str], vendor: bool = False
    ) -> list[tuple[int, int]]:
        """Values for ``keyword``; after a vendor's name alone (``vendor``), a
        short value counts only in quotes (``mattermost 'e2rg...'``): ``Jira
        PROJ-4821`` is a ticket."""
        line_end = text.find("\n", keyword.end())
        window_end = len(text) if line_end < 0 else line_end
        out = []
        # A quoted literal right after the keyword is one value, whatever its
        # characters (``token = '4nXY]mHD...'``): candidates would split it.
        literal = self._LITERAL.match(text, keyword.end(), window_end)
        taken = keyword.end()
        named = vendor or text[keyword.start() - 1:keyword.start()] in ("?", "&")
        if literal and "://" not in literal.group(2) and not regex.search(
                _MASKED, literal.group(2)) and (self._is_secret(literal.group(2), True, True) or
                                                self._assigned_id_shape(keyword.group(),
                                                                        literal.group(2), named)):
            out.append(literal.span(2))
            taken = literal.end(2)
        words = 0
        for word in self._words.finditer(text, keyword.end(), window_end):
            words += 1
            if words > self.MAX_WORDS_AFTER:
                break
            if "://" in word.group():
                continue  # a URL, not a credential
            for cand in self._candidate.finditer(text, word.start(), word.end()):
                if cand.start() < taken:
                    continue  # inside the quoted literal found above
                if _ELIDED.match(text, cand.end()):
                    continue  # "ops_eyJzaW...", "...-####": an example cut short
                assigned = words <= 2 and bool(
                    self._ASSIGNED.match(text, keyword.end(), cand.start()))
                quoted = text[cand.start() - 1] in "\"'`"
                value = cand.group()
                if self._is_secret(value, assigned and (quoted or not vendor), quoted) or (
                        assigned and self._assigned_id_shape(keyword.group(), value, named)):
                    out.append(whole_value(text, cand.start(), cand.end(), keyword.end(),
                                           word.end()))
        if out or line_end < 0:
            return out
        # Nothing on the keyword's line: an XML element or a name/value pair.
        line_start = text.rfind("\n", 0, keyword.start()) + 1
        head = text[line_start:window_end]
        opened = self._XML_OPEN.search(head)
        if opened and keyword.group() in opened.group(0):
            close = text.find("</", window_end, window_end + 400)
            if close > 0:
                inner = text[window_end:close]
                stripped = inner.strip()
                if stripped and "\n" not in stripped and "<" not in stripped:
                    at = window_end + inner.index(stripped)
                    if self._is_secret(stripped, True) or self._assigned_id_shape(
                            keyword.group(), stripped, vendor):
                        out.append((at, at + len(stripped)))
            return out
        if regex.search(r"name[\"']?[ \t]*[:=]", head, regex.IGNORECASE):
            m = self._NEXT_VALUE.match(text, window_end + 1)
            if m and self._is_secret(m.group(1), True):
                out.append(m.span(1))
        return out

    def _assigned_id_shape(self, keyword: str, value: str, vendor: bool = False) -> bool:
        """A UUID or 20+ digits assigned to a credential-named key, to a vendor's
        name alone (``onesignal: <uuid>``: many vendors' keys are UUIDs) or to a
        URL query's ``key`` (``?key=<uuid>``; ``vendor`` covers both)."""
        shaped = bool(_UUID.fullmatch(value)) or (value.isdigit() and len(value) >= 20)
        named = (vendor and not regex.search(r"(?i)id$", keyword)) or bool(
            self._CREDENTIAL_NAME.search(keyword))
        return shaped and named and not is_placeholder(value)

    def _is_secret(self, value: str, assigned: bool, quoted: bool = False) -> bool:
        value = value.rstrip("=.")
        if looks_like_reference(value) or _UUID.fullmatch(value) or is_placeholder(
                value, assigned):
            return False
        if looks_like_host(value):
            return False  # a server's name after "secret =" or a vendor's name
        # Hex carries 4 bits a character at most: 32 random hex characters
        # often reach only 3.4 (detect-secrets' hex limit is 3.0).
        bar = self.MIN_HEX_ENTROPY if _HEX.fullmatch(value) else self.MIN_ENTROPY
        if len(value) >= self.MIN_LENGTH and looks_random(value, self.MIN_LENGTH, bar):
            return not looks_like_identifier(value)
        return assigned and len(value) < 64 and short_secret_ok(value, quoted)


class QuotedHighEntropyRecognizer(_Scanner):
    """A quoted base64-like string of near-maximal entropy, with no keyword near it.

    detect-secrets' high-entropy plugin, restricted: at least ``MIN_LENGTH``
    characters between matching quotes, ``MIN_ENTROPY`` bits per character
    (4.5, what random base64 of this length reaches and text, paths and ids
    do not), letters and digits, not a hash named as such (``sha256``,
    ``integrity``, ``checksum``...) just before it.
    """

    ENTITY = "API_TOKEN"
    PATTERN = regex.compile(r"([\"'`])([A-Za-z0-9+/_=-]{24,512})\1")
    MIN_LENGTH = 24
    MIN_ENTROPY = 4.5
    SCORE = 0.6
    _HASH_WORDS = regex.compile(
        r"(?i:sha\d*|md5|hash|checksum|digest|integrity|etag|fingerprint|nonce|salt|commit"
        r"|revision|uuid|guid|\bids?\b|image|icon|data:)"
    )


    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out = []
        for m in self.PATTERN.finditer(text, timeout=1.0):
            value = m.group(2).rstrip("=")
            if len(value) < self.MIN_LENGTH or shannon_entropy(value) < self.MIN_ENTROPY:
                continue
            if not looks_random(value, self.MIN_LENGTH, self.MIN_ENTROPY) or is_placeholder(value):
                continue
            if phrase_before(self._HASH_WORDS, text, m.start(), 32):
                continue
            start, end = m.span(2)
            out.append(_result(self, start, end, self.SCORE, "quoted_high_entropy"))
        return out


# A key whose name says "password": db_password, PASSWORD, "passwd", pwd.
# A C array's brackets may follow the name (``char password[25] = "..."``).
_PW_KEY = r"(?<![\w.-])[\w.-]*(?:passw(?:or)?d|pwd|passphrase)[\w.-]*(?:\[\d*\])?[\"']?[ \t]*"
# Before a quoted value: an operator (an Objective-C literal's ``@`` may stand
# before the quote); or only a space (``password "s3cr3t";``), then the value is
# one word of 6+ characters ("the password "must be long"" is prose).
_PW_ASSIGN = _PW_KEY + r"(?:=>|:=|=|:)[ \t]*@?"
_PW_SPACE = _PW_KEY + r"(?<=[ \t])@?"
_PW_VALUE = r"[^\s\"'`,;(){}\[\]<>]{1,256}"


class _HintGatedRecognizer(_DeclaredPatterns):
    """A pattern recognizer that skips, before any regex runs, a text holding
    none of its ``HINTS`` (case-folded substrings)."""

    HINTS: tuple[str, ...] = ()

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
        if "\n" not in text:
            return super().analyze(text, entities, nlp_artifacts, regex_flags)
        # Every pattern matches within one line holding a hint (the key's name
        # and its value share the line), so only runs of such lines are read
        # (a 4,000-character segment holds "key" somewhere; few of its lines
        # do), the offsets shifted back.
        results: list[RecognizerResult] = []
        for start, end in self._hinted_runs(text):
            found = super().analyze(text[start:end], entities, nlp_artifacts, regex_flags)
            for r in found:
                r.start += start
                r.end += start
            results += found
        return results

    def _hinted_runs(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each run of consecutive lines holding a hint."""
        runs: list[tuple[int, int]] = []
        start = 0
        while start <= len(text):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            line = text[start:end].casefold()
            if any(hint in line for hint in self.HINTS):
                if runs and runs[-1][1] == start - 1:
                    runs[-1] = (runs[-1][0], end)
                else:
                    runs.append((start, end))
            start = end + 1
        return runs


# -- passwords written into prose (a wiki page, a chat, a ticket) -------------
#
# ``password: Tr0ub4dor&3x (ask Dana)``, ``the database password is: X``,
# ``my password is X``, ``pw: X``, ``passwd=X and then``, ``password for prod
# was changed to X``, ``| Password | X |``, ``**Password:** X``, a value in
# quotes (straight or typographic) with spaces, a value on the line after
# ``Password:``. The value is everything up to the next space (or the closing
# quote): a password may hold any symbol, so a mask that stops at ``&`` or
# ``!`` leaves the rest of it in clear. Punctuation at its end (``.``, ``,``,
# ``)``) is masked with it: whether it belongs to the password cannot be told,
# and a masked full stop costs nothing.
_SP = r"[ \t\u00a0]"
_PHRASE_KEY = (
    r"(?<![\w.-])(?:[\w.-]*(?:passw(?:or)?d|passwort|pwd|passphrase|passcode)[\w.-]*|pw|pass)"
    r"(?![\w])"
)
# "password for the prod db", "password of user admin" (not across a separator).
_PHRASE_QUALIFIER = r"(?:" + _SP + r"+(?:for|of|on|to)" + _SP + r"+[^\n:=|\"'`]{1,40}?)?"
_PHRASE_SEP = (
    r"[*_]{0,2}(?:" + _PHRASE_QUALIFIER + r"(?P<sep>"
    + _SP + r"*(?:=>|:=|=(?!=)|->|\u2192|:|\uff1a|\||,)[*_]{0,2}" + _SP + r"*"  # operator
    + r"|" + _SP + r"+[-\u2013\u2014]" + _SP + r"+"  # a dash
    + r"|" + _SP + r"+(?:(?:was|is|has" + _SP + r"+been)" + _SP + r"+)?(?:set|changed|reset"
    + r"|updated)" + _SP + r"+to(?:" + _SP + r"*:)?" + _SP + r"+"
    + r"|" + _SP + r"+(?:is|was)(?:" + _SP + r"*:)?" + _SP + r"+"
    # a space alone ("use password X to log in"), not before the words above
    + r")|(?P<sep>" + _SP + r"+(?!(?:is|was|has|set|changed|reset|updated|for|of|on|to)\b)))"
)
_PHRASE_VALUE = (
    r"(?:\"(?P<q1>[^\"\n]{1,128})\"|'(?P<q2>[^'\n]{1,128})'|`(?P<q3>[^`\n]{1,128})`"
    r"|\u201c(?P<q4>[^\u201d\n]{1,128})\u201d|\u2018(?P<q5>[^\u2019\n]{1,128})\u2019"
    r"|\u00ab(?P<q6>[^\u00bb\n]{1,128})\u00bb|\u201e(?P<q7>[^\u201c\u201d\n]{1,128})[\u201c\u201d]"
    r"|(?P<bare>[^\s]{1,256})"
    r"|\r?\n" + _SP + r"*(?P<next>[^\s]{4,256})" + _SP + r"*(?=\r?\n|\Z))"
)
_PHRASE = regex.compile(_PHRASE_KEY + _PHRASE_SEP + _PHRASE_VALUE,
                        regex.IGNORECASE)
_QUOTE_GROUPS = ("q1", "q2", "q3", "q4", "q5", "q6", "q7")
_TRAILING = ".,;:!?)]}>*_|"
# "2FA-protected", "SHA256-hashed": a compound word, not a value.
_COMPOUND = regex.compile(r"[A-Za-z0-9]+(?:-[a-z]{3,})+")



_CAMEL = regex.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)+")
# A call or an index in code (``getPassword();``, ``form['password']``).
_CODE = regex.compile(r"[A-Za-z_][\w.]*[(\[]")


def password_like(value: str) -> bool:
    """A word that reads as a password where prose could stand instead
    (``password: must be long``, ``the password is stored in Vault``): six
    characters or more, letters with a digit, a symbol or an irregular
    capital (not ``camelCase``), or six digits or more (a PIN)."""
    if len(value) < 6 or _COMPOUND.fullmatch(value) or _CODE.match(value):
        return False
    if value.isdigit():
        return True
    if not any(c.isalpha() for c in value):
        return False
    if any(c.isdigit() for c in value) or any(not c.isalnum() and not c.isspace() for c in value):
        return True
    return any(c.isupper() for c in value[1:]) and not _CAMEL.fullmatch(value)


def _classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value),
                any(c.isdigit() for c in value), any(not c.isalnum() for c in value)))


# A table whose header names a password column (Markdown ``| User | Password |``
# over ``|---|---|``, or tab- / comma-separated lines): each row's cell in
# that column is a password, as a value after ``password =`` is.
_HEADER_CELL = regex.compile(
    r"[*_ \t]*(?:[\w.-]*(?:passw(?:or)?d|passwort|pwd|passphrase|passcode)[\w.-]*|pw|pass"
    r"|(?:db|database|admin|user|account|root|initial|temp|temporary|new)[ _-]?"
    r"(?:passw(?:or)?d|pwd|pw|pass))[*_ \t]*", regex.IGNORECASE)
_RULE_ROW = regex.compile(r"[ \t]*\|?[ \t]*:?-{3,}")
_MAX_ROWS = 1_000


def _cells(line: str, offset: int, sep: str) -> list[tuple[int, int]]:
    """(start, end) of each cell of ``line`` (at ``offset`` in the text), spaces
    trimmed; a Markdown row's outer pipes open and close no cell."""
    out: list[tuple[int, int]] = []
    at = 0
    for part in line.split(sep):
        start, end = at, at + len(part)
        at = end + 1
        while start < end and line[start] in " \t*_":
            start += 1
        while end > start and line[end - 1] in " \t\r*_":
            end -= 1
        out.append((offset + start, offset + end))
    if sep == "|":
        if line.strip(" \t\r").startswith("|"):
            out = out[1:]
        if line.strip(" \t\r").endswith("|"):
            out = out[:-1]
    return out


def table_password_cells(text: str) -> list[tuple[int, int]]:
    """Spans of the cells under a password column header (see ``_HEADER_CELL``)."""
    out: list[tuple[int, int]] = []
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    i = 0
    while i < len(lines) - 1:
        line = lines[i]
        folded = line.casefold()
        if "pass" not in folded and "pw" not in folded:
            i += 1
            continue  # no header here (most lines): no split
        sep = "|" if "|" in line else "\t" if "\t" in line else "," if "," in line else ""
        cells = _cells(line, starts[i], sep) if sep else []
        column = next((j for j, (a, b) in enumerate(cells)
                       if b > a and _HEADER_CELL.fullmatch(text, a, b)), None)
        if column is None:
            i += 1
            continue
        first = i + 1
        if sep == "|":
            if not _RULE_ROW.match(lines[first]):
                i += 1
                continue
            first += 1
        k = first
        while k < len(lines) and k - first < _MAX_ROWS:
            row = _cells(lines[k], starts[k], sep) if sep in lines[k] else []
            if len(row) != len(cells):
                break
            out.append(row[column])
            k += 1
        i = max(k, i + 1)
    return [(a, b) for a, b in out if b > a]


class PasswordRecognizer(_HintGatedRecognizer):
    """Passwords in connection strings and config lines: the value only.

    ``postgres://user:s3cret@host`` -> ``s3cret``; ``password = s3cret``,
    ``"db_password": "s3cret"``, ``--password s3cret`` -> ``s3cret``.
    After a colon the value must end its line (``Password: must be long``
    is prose, ``password: s3cret`` is YAML). Placeholders (``${VAR}``,
    ``<password>``, ``****``, type names) are not passwords.

    Passwords written into prose (``password: Tr0ub4dor&3x (ask Dana)``,
    ``my password is X``, ``pw: X``, a table cell, the next line) are found
    by ``_PHRASE`` beside the patterns, the whole value each (to the next
    space or closing quote): where words could stand instead, the value
    must look like a password (:func:`password_like`).
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
        Pattern("code_password", r"(?<=" + _PW_SPACE + r"([\"']))[^\"'\s]{6,256}(?=\1)", 0.7),
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
    PHRASE_SCORE = 0.75  # above the keyword rule's 0.7: the same span is a PASSWORD
    PLACEHOLDERS = frozenset(
        {
            "str", "string", "bytes", "secretstr", "optional", "none", "null", "nil",
            "true", "false", "required", "undefined", "redacted", "hidden",
        }
    )  # fmt: skip
    FLAGS = _CASE_INSENSITIVE

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
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        folded = text.casefold()
        if "pass" not in folded and "pw" not in folded:
            return results
        phrases = self._phrases(text)
        if not phrases:
            return results
        # A pattern's value inside a phrase's (``s3cret`` of ``s3cret!x``) gives
        # way to the whole value; a phrase inside a pattern's adds nothing.
        kept = [r for r in results if r.score <= 0 or not any(
            p.start <= r.start and r.end <= p.end for p in phrases)]
        return kept + [p for p in phrases if not any(
            r.score > 0 and r.start <= p.start and p.end <= r.end for r in kept)]

    def _phrases(self, text: str) -> list[RecognizerResult]:
        """Passwords written into prose or config, the whole value each
        (see ``_PHRASE``); how sure the value must look depends on what
        stands between the key and it."""
        out: list[RecognizerResult] = []
        for m in _PHRASE.finditer(text, timeout=1.0):
            sep = m.group("sep").strip(" \t\u00a0*_")
            quoted = next((g for g in _QUOTE_GROUPS if m.group(g) is not None), None)
            if quoted is not None:
                start, end = m.span(quoted)
                core = text[start:end].strip()
                if not core or self.invalidate_result(core) or len(core.split()) > 6 or (
                        not sep and not (" " not in core and password_like(core))):
                    continue  # after a space alone: one made-looking word ("here" is prose)
            elif m.group("next") is not None:
                start, end = m.span("next")
                core = text[start:end].rstrip(_TRAILING)
                if sep != ":" or not password_like(core) or self.invalidate_result(core):
                    continue
            else:
                start, end = m.span("bare")
                pair = _NEXT_PAIR.search(text, start, end + 32)
                end = pair.start() if pair and pair.start() < end else end
                core = text[start:end].rstrip(_TRAILING)
                if not core or not self._bare_ok(core, sep):
                    continue
            out.append(_result(self, start, end, self.PHRASE_SCORE, "password_phrase"))
        if "|" in text or "\t" in text or "," in text:
            for start, end in table_password_cells(text):
                value = text[start:end]
                if " " not in value.strip() and not self.invalidate_result(value):
                    out.append(_result(self, start, end, self.PHRASE_SCORE, "password_column"))
        return out

    def _bare_ok(self, core: str, sep: str) -> bool:
        if self.invalidate_result(core) or not password_like(core):
            return False
        if sep:
            return True
        # A space alone between the key and the value ("use password X to log
        # in"): the value must look made, not like the next word of a sentence.
        digits = sum(c.isdigit() for c in core)
        return len(core) >= 8 and (_classes(core) >= 3 or (
            digits >= 2 and sum(c.isalpha() for c in core) >= 2))

    def invalidate_result(self, pattern_text: str) -> bool:
        value = pattern_text.strip()
        if len(value) < self.MIN_LENGTH or value.lower() in self.PLACEHOLDERS:
            return True
        if not any(c.isalnum() for c in value):
            return True  # symbols only (",.:-@*?!"): a separator list, not a password
        if looks_like_reference(value):
            return True  # a variable, template or code reference (var.db_password)
        if regex.fullmatch(r"[a-z]+(?:_[a-z]+)+", value):
            return True  # a snake_case name (password: real_key), not a value
        if is_placeholder_word(value):
            return True  # "somefakekey", "changeme", "your_password_here"
        return len(set(value)) == 1 or set(value) <= set("*•xX.")


# A key named for a credential other than a password: secret, api key, private key...
_CRED_NAME = (
    r"(?:secret|api_?key|apikey|private_?key|access_?key|auth_?token|access_?token|db_?pass"
    r"|passwd)"
)
_CRED_KEY = r"(?<![\w.-])[\w.-]*" + _CRED_NAME + r"[\w.-]*(?:\[\d*\])?[\"']?[ \t]*"
_CRED_ASSIGN = _CRED_KEY + r"(?:=>|:=|===?|!==?|=|:|,)[ \t]*@?"
_CRED_SPACE = _CRED_KEY + r"(?<=[ \t])@?"
# ``if ("s3cr3t" == password)``: a literal compared with a credential-named variable.
_CMP_NAME = r"[ \t]*(?:===?|!==?)[ \t]*[\w.]*(?:" + _CRED_NAME + r"|passw(?:or)?d|pwd)\w*"


class AssignedSecretRecognizer(_HintGatedRecognizer):
    """A quoted value assigned to a key named for a credential, whatever its entropy.

    ``api_key = "m{h}o)p$e]nob"``, ``client_secret: 'Tr0ub4dor'``: the key
    says what the value is, as ``PasswordRecognizer`` does for passwords.
    The value must have 6+ characters, an alphanumeric one, and be no
    reference, placeholder, code name or prose (three lower-case words).
    """

    ENTITY = "API_TOKEN"
    PATTERNS = (
        Pattern("assigned_secret_dq", r"(?<=" + _CRED_ASSIGN + r"\")[^\"\r\n]{6,256}(?=\")", 0.7),
        Pattern("assigned_secret_sq", r"(?<=" + _CRED_ASSIGN + r"')[^'\r\n]{6,256}(?=')", 0.7),
        Pattern("literal_secret", r"(?<=" + _CRED_SPACE + r"([\"']))[^\"'\s]{6,256}(?=\1)", 0.7),
        # In backticks a value with spaces is a shell command (`vault read ...`).
        Pattern("assigned_secret_bq", r"(?<=" + _CRED_ASSIGN + r"`)[^`\s]{6,256}(?=`)", 0.7),
        Pattern("compared_secret", r"(?<=([\"']))[^\"'\r\n]{6,256}(?=\1" + _CMP_NAME + ")", 0.7),
        Pattern(
            "assigned_secret_bare",
            r"(?<=" + _CRED_KEY + r"(?::=|=|:)[ \t]*)[^\s\"'`=][^\s\"'`]{5,255}(?=[\s,;\"'`]|$)",
            0.7,
        ),
    )
    HINTS = ("secret", "key", "token", "pass", "pwd")

    FLAGS = _CASE_INSENSITIVE

    def invalidate_result(self, pattern_text: str) -> bool:
        value = pattern_text.strip()
        if len(value) < 6 or not any(c.isalnum() for c in value):
            return True
        if value.lower() in PasswordRecognizer.PLACEHOLDERS or looks_like_reference(value):
            return True
        if is_placeholder(value, assigned=True) or looks_like_identifier(value) or counts_in_short(
                value):
            return True
        if regex.search(_MASKED, value):
            return True  # cut short or masked ("ops_eyJz..[Redacted]", "ab12***")
        if regex.fullmatch(r"[a-z]+(?:_[a-z]+)*", value):
            return True  # one lower-case word or snake_case name ("real_secret")
        if value.startswith(("/", "./", "~/", "file:", "http")) or regex.search(
                r"\.(?:pem|key|crt|json|ya?ml|txt|p12|pfx|env)$", value):
            return True  # a path or a file holding the secret, not the secret
        if value.isalpha() and value.count(" ") == 0 and len(value) < 20:
            return True  # a single word ("Required", "Optional")
        words = value.split()
        return len(words) >= 3 and sum(w.isalpha() and w.islower() for w in words) >= 3  # prose
