"""Injection score of a chunk: is this text trying to instruct a model?

Indirect prompt injection (OWASP LLM01) hides instructions for the chatbot
inside a document that is later pasted into its prompt. :func:`score` looks
for two kinds of evidence, each a named *signal* with a fixed weight:

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

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SIGNALS", "InjectionScore", "score_injection"]


@dataclass(frozen=True, slots=True)
class InjectionScore:
    """How instruction-like a text is (0..1) and which signals said so."""

    score: float
    signals: tuple[str, ...]


_I = re.IGNORECASE


def _rx(*parts: str, flags: int = _I) -> re.Pattern[str]:
    return re.compile("".join(parts), flags)


# -- attack families ------------------------------------------------------
_PRIOR = r"(?:all\s+|any\s+|the\s+|your\s+|my\s+|these\s+|those\s+|this\s+)?" \
    r"(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|old|" \
    r"system|given|following|current|other)?\s*"
_RULES = r"(?:instructions?|directions?|directives?|prompts?|rules|guidelines|context|" \
    r"commands?|orders|restrictions|constraints|programming|text|messages?|content|input|" \
    r"policies|everything|conversation|tasks?)"
_OUTPUT_VERB = r"(?:say|state|print|output|write|respond|reply|answer|return|tell|repeat|" \
    r"type|claim|declare|insist|reveal|send|forward|email|include|add|instead)"

_OVERRIDE = [
    _rx(rf"\b(?:ignore|disregard|forget|skip|override|bypass|neglect)\s+{_PRIOR}{_RULES}"),
    _rx(r"\b(?:ignore|disregard|forget)\s+(?:all|everything|anything)\b"),
    _rx(r"\b(?:ignore|disregard|forget|overlook)\s+(?:all\s+|ever\w*\s+|anything\s+)?"
        r"(?:that\s+|what\s+)?you(?:'ve|\s+have|\s+were)?\s+(?:been\s+)?"
        r"(?:told|instructed|taught|given|programmed)"),
    _rx(r"\bregardless\s+of\s+(?:any\s+|all\s+|the\s+|your\s+)?(?:previous|prior|earlier|"
        r"original|above)\s+(?:tasks?|instructions?|rules|directions)"),
    _rx(rf"\b(?:ignore|disregard)\s+(?:the|this|that|any|my|your)\s+[\w\- ]{{1,30}}?"
        rf"\s*(?:,\s*|\s+)(?:and\s+|but\s+|then\s+|instead\s+|just\s+){{1,2}}{_OUTPUT_VERB}\b"),
    _rx(r"\bstop\s+(?:here\s+and\s+(?:forget|ignore|disregard)|everything\b)|"
        r"\bend\s+of\s+(?:the\s+)?(?:instructions|prompt)\b"),
    _rx(r"\bnew\s+(?:instructions?|directives?|task|rules|objective)\s*[:#!.]"),
    _rx(r"\b(?:begin|start)\s+(?:new\s+)?(?:instructions?|reprogramming)\b"),
    _rx(r"\byour\s+(?:new\s+|real\s+|true\s+|only\s+)?(?:objective|goal|task|purpose|mission)"
        r"\s+(?:is|will\s+be|now\s+is)\b"),
    _rx(r"\b(?:do\s+not|don't|never)\s+follow\s+(?:the|your|any)\s+"
        r"(?:previous|prior|above|original|system)"),
    # The same family in other languages (NFKC-folded, case-insensitive).
    _rx(r"\b(?:vergessen|ignorieren)\s+sie\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen)?\s*"
        r"(?:anweisungen|instruktionen|regeln)|\bignorez\s+(?:toutes\s+)?(?:les\s+)?"
        r"(?:instructions|consignes)|\bignora(?:r)?\s+(?:todas\s+)?(?:las\s+)?instrucciones|"
        r"\bignora\s+(?:tutte\s+)?(?:le\s+)?istruzioni|\bignore\s+(?:todas\s+)?(?:as\s+)?"
        r"instru\u00e7\u00f5es|\u0438\u0433\u043d\u043e\u0440\u0438\u0440\w*\s+(?:\w+\s+)?"
        r"\u0438\u043d\u0441\u0442\u0440\u0443\u043a\u0446"),
    _rx("\u03b1\u03b3\u03bd\u03bf\u03ae\u03c3\u03c4\u03b5\\s+(?:\\w+\\s+){0,2}\u03bf\u03b4\u03b7\u03b3\u03af"
        "|\uc9c0\uc2dc\uc0ac\ud56d\uc744 \ubb34\uc2dc|"
        "\u0928\u093f\u0930\u094d\u0926\u0947\u0936\u094b\u0902 \u0915\u0940 "
        "\u0905\u0928\u0926\u0947\u0916\u0940|"
        "\u6307\u793a\u3092\u7121\u8996|\u5ffd\u7565(?:\u4e4b\u524d|\u4ee5\u524d|\u4e0a\u8ff0|\u6240\u6709)"
        "\u7684?(?:\u6240\u6709\u7684?)?(?:\u6307\u4ee4|\u6307\u793a)"),
]
_ROLE = [
    _rx(r"\byou\s+are\s+(?:now|no\s+longer)\b"),
    _rx(r"\b(?:from\s+now\s+on|henceforth)\b[^.\n]{0,60}\byou\b"),
    _rx(r"\b(?:act|behave|respond|pretend)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?"
        r"(?:an?\s+)?(?:unrestricted|uncensored|unfiltered|jailbroken|evil|DAN)\b"),
    _rx(r"\b(?:developer|god|debug|admin|unrestricted|jailbreak|maintenance|override|sudo)"
        r"\s+mode\b|\bsafe\s+mode\s+(?:off|disabled)\b|<\s*system\s+mode\s*>"),
    _rx(r"\bDAN\b|\bjailbr(?:eak|oken)\b|\bdo\s+anything\s+now\b"),
    _rx(r"\bpretend\s+(?:to\s+be|you\s+are)\b"),
    _rx(r"\b(?:i\s*'?\s*a?m|this\s+is)\s+(?:your|the)\s+(?:developer|creator|administrator|admin|"
        r"operator|system)\b"),
    _rx(r"\[\s*(?:system|admin)\s*(?:note|message|override)?\s*:"),
    _rx(r"^\s*(?:system|assistant)\s*:", flags=_I | re.MULTILINE),
    _rx(r"<\|?(?:im_start|im_end|system|endoftext)\|?>"),
]
_PROMPT_LEAK = [
    _rx(r"\b(?:reveal|repeat|print|show|output|relay|list|tell\s+me|what\s+(?:are|were))\s+"
        r"(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:your|the)\s+"
        r"(?:initial\s+|original\s+|system\s+|hidden\s+|"
        r"secret\s+)?(?:instructions|system\s+prompt|prompt|rules|initials?\s+instructions)"),
    _rx(r"\b(?:the|your|its|my|a)\s+(?:system|hidden|initial|original)\s+prompt\b"),
]
# A directive about the model's own output: the core of most indirect attacks.
_RESPONSE = r"(?:response|reply|answer|output|responses|replies|answers|summary)"
_OUTPUT_DIRECTIVE = [
    _rx(rf"\b(?:in|to|into|within|throughout|of|from|on|with|for)\s+(?:your|each|every|the\s+next)"
        rf"\s+(?:\w+\s+)?{_RESPONSE}\b"),
    _rx(rf"\byour\s+(?:\w+\s+)?{_RESPONSE}\s+(?:should|must|shall|will|needs?\s+to|has\s+to|"
        r"is\s+to|in\s+\w+|sequence|character)"),
    _rx(r"\b(?:end|start|begin|conclude|finish|sign)\s+(?:each|every|all|your)\s+(?:of\s+your\s+)?"
        rf"{_RESPONSE}"),
    _rx(r"\b(?:modify|enhance|change|alter|adjust|update|format|render|rewrite|structure|improve|"
        r"translate|encode|encrypt|reverse|present|deliver|craft|compose|frame|phrase|style|"
        r"write|provide|give|make|keep|limit|end|start|begin|jumble|scramble)\s+"
        r"(?:all\s+of\s+|each\s+of\s+)?your\s+(?:\w+\s+)?"
        r"(?:response|answer|reply|output|message|responses|answers|replies)s?\b"),
    _rx(r"\b(?:respond|reply|answer)\s+(?:only\s+)?(?:with|in|using)\b"),
    _rx(r"\b(?:just|only)\s+(?:say|print|output|write|reply|respond)\s*(?:with\b|:|[\"'\u201c])"),
    _rx(r"\b(?:provide|give|write|present|deliver)\s+(?:your|the)\s+(?:\w+\s+)?"
        rf"{_RESPONSE}\s+(?:in|as|using|with)\b"),
    _rx(r"\b(?:when|if|every\s+time|whenever)\s+(?:the\s+)?(?:user|someone|anyone|they)\s+"
        r"(?:asks?|says?|requests?|mentions?)\b"),
    _rx(r"\b(?:in|into|to)\s+(?:the\s+)?(?:chatbot|assistant|model|ai)'?s?\s+"
        rf"(?:{_RESPONSE}|reply)"),
]
_ADDRESS_MODEL = [
    _rx(r"\b(?:dear|hey|attention|note\s+to(?:\s+the)?)\s+(?:ai|assistant|chatbot|gpt|llm|"
        r"language\s+model|model|bot)\b"),
    _rx(r"\b(?:as\s+an?|you\s+are\s+an?)\s+(?:ai|large\s+language|language)\s+(?:model|assistant)"),
    _rx(r"\bas\s+an?\s+ai\s+(?:developed|made|built|created|trained)\s+by\b"),
    _rx(r"\b(?:ai|llm|chatbot|assistant|language\s+model)s?\s+(?:reading|processing|summari[sz]ing|"
        r"parsing)\s+this\b"),
    _rx(r"\bi\s+will\s+tip\s+you\b|\bunderstand\?\s*$", flags=_I | re.MULTILINE),
]
# Asking the model for a secret it holds: the goal of most direct attacks,
# and of an indirect one that tries to exfiltrate through the answer.
# A pattern naming kinds of secrets, not a secret.
_CREDENTIAL_NOUNS = (
    r"(?:password|passcode|passphrase|pass\s+phrase|secret\s+(?:key|code)|api\s+key|"
    r"credentials|access\s+code|pin\s+code)s?"
)
_SECRET_REQUEST = [
    _rx(r"\b(?:cu\u00e1l\s+es\s+la\s+contrase\u00f1a|quel\s+est\s+le\s+mot\s+de\s+passe|"
        r"qual\s+\u00e8\s+la\s+password|was\s+ist\s+das\s+passwort|qual\s+\u00e9\s+a\s+senha)"
        "|\u30d1\u30b9\u30ef\u30fc\u30c9\u306f\u4f55"),
    _rx(r"(?<!never\s)(?<!not\s)(?<!n't\s)\b(?:share|confirm|tell\s+me|give\s+me|send\s+me|reveal|"
        r"disclose|print|spell\s+out|what(?:'s|\s+is|\s+are))\s+(?:me\s+)?(?:your|the|our)\s+"
        rf"(?:\w+\s+)?{_CREDENTIAL_NOUNS}(?:\s+for\s+(?:our|the|this)\s+system)?\s*[?.!]"),
    _rx(r"\b(?:poem|haiku|story|acrostic|song|limerick|riddle|leetspeak|pig\s+latin|base64|"
        rf"reverse)\b[^.\n]{{0,40}}\b(?:the|your|our)\s+{_CREDENTIAL_NOUNS}"),
]
_CODE = r"(?:code|snippet|script|block|excerpt|section|function|module)"
_CODE_INJECTION = [
    _rx(rf"\b(?:following|below|subsequent|this|above)\s+(?:code\s+|python\s+)?{_CODE}\b"
        r"[^\n]{0,120}?\b(?:your|the)\s+(?:code|codebase|implementation|solution|response|answer|"
        r"program|algorithm|elucidation|script|logic|function|project|reply|output)"),
    _rx(r"\b(?:your|the)\s+(?:code|codebase|implementation|solution|program|algorithm|elucidation|"
        rf"response|reply)\b[^\n]{{0,60}}?\b(?:following|below|subsequent)\s+(?:code\s+)?{_CODE}"),
    _rx(r"\b(?:execute|run|eval)\s+(?:the\s+)?(?:following|below|this)\s+(?:code|command|script)"),
]
# "Decode this and do what it says": smuggling an instruction past filters.
_DECODE_REQUEST = [
    _rx(r"\b(?:decode|decipher|decrypt|unscramble|translate)\s+(?:this|the\s+following|the\s+below)"
        r"\s+(?:\w+\s+){0,2}(?:cipher|code|string|message|text|sequence)\b[^.\n]{0,40}?"
        r"\b(?:tell\s+me|say|follow|do|execute|answer|respond)"),
]
# "Integrate the following code block": common in genuine answers too, so weak.
_CODE_DIRECTIVE = [
    _rx(r"\b(?:utili[sz]e|use|integrate|incorporate|include|add|insert|embed|blend|merge|append|"
        r"leverage|weave|absorb|enlist|employ|implement|meld|inject)\s+(?:the|this)\s+"
        rf"(?:following|below|subsequent|above)\s+(?:code\s+|python\s+)?{_CODE}\b"),
]
# Code that reaches out or destroys: weak alone (documentation shows such code).
_RISKY_CODE = [
    _rx(r"\brequests\.(?:post|put)\s*\(|\burllib\.request\.urlretrieve\b|\bsmtplib\b|"
        r"\bos\.system\s*\(|\bshutil\.rmtree\s*\(\s*['\"]/['\"]|/dev/sd[a-z]\b|"
        r"\bcurl\s+[^|\n]{0,80}\|\s*(?:ba)?sh\b|\bpyautogui\b|\bpynput\b|\bkeylog"),
]
_EXFILTRATION = [
    _rx(r"!\[[^\]]{0,80}\]\(\s*https?://[^)\s]{1,200}[?&][\w.-]+=[^)\s]*\)"),
    _rx(r"\b(?:send|forward|email|post|upload|exfiltrate|leak)\s+(?:all|every|the|this|"
        r"their|the\s+user'?s?|your)\s+[^.\n]{0,60}?\b(?:to|at)\s+(?:https?://|www\.|[\w.+-]+@)"),
    _rx(r"\b(?:visit|click|go\s+to|download\s+(?:from|at))\s+(?:this\s+link\s+)?\(?"
        r"(?:https?://|www\.)\S+[^.\n]{0,40}"
        r"\b(?:to\s+(?:claim|win|get|reset|verify|boost|unlock))"),
]
# A stand-alone request to an assistant dropped into a document: one line,
# an imperative task verb or a full question (BIPIA-style task hijacking).
_TASK_VERBS = (
    "write|summari[sz]e|analy[sz]e|recommend|translate|explain|draft|compose|generate|describe|"
    "determine|calculate|compute|classify|evaluate|assess|compare|outline|suggest|list|name|"
    "identify|convert|paraphrase|rewrite|rephrase|tell\\s+me|give\\s+me|show\\s+me|help\\s+me|"
    "provide|create\\s+a\\s+(?:poem|story|list|plan|summary|script)|discuss|predict|estimate|"
    "encrypt|encode|decode|reverse|research|find\\s+out|elaborate|critique|review\\s+the"
)
_TASK_LINE = _rx(
    rf"^\s*(?:please\s+|now\s+|also\s*,?\s+|first\s*,?\s+|then\s*,?\s+|next\s*,?\s+)?"
    rf"(?:{_TASK_VERBS})[ \t]+(?:(?:a|an|the|me|my|your|this|these|those|how|what|why|which|who|"
    rf"some|all|each|every|its|their|three|five|ten|\d+)\b|[\"'])[^\n]{{8,300}}$",
    flags=_I | re.MULTILINE,
)
_QUESTION_LINE = _rx(
    r"^\s*(?:what|how|why|which|who|whom|where|when|can\s+you|could\s+you|would\s+you|will\s+you|"
    r"do\s+you|is\s+there|are\s+there|should\s+i|how\s+do\s+i|what\s+is|what\s+are)\b"
    r"(?:[^\n?]{12,250})\?\s*$",
    flags=_I | re.MULTILINE,
)
_ADDRESSEE_QUESTION = _rx(r"\b(?:can|could|would|will)\s+you\s+(?:please\s+)?"
                          r"(?:tell|show|explain|give|write|provide|list|help|share)\b")

# -- hidden text ------------------------------------------------------------
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_TAGS = re.compile("[\U000e0000-\U000e007f]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_BINARY = re.compile(r"(?<![01])(?:[01]{8}[ ]){11,}[01]{8}(?![01])")
_MORSE = re.compile(r"(?:(?<=\s)|^)(?:[.-]{1,6}[ ]+(?:/[ ]+)?){20,}", re.MULTILINE)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){24,}(?![0-9A-Fa-f])")

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
    # The learned head (``_injection_head.py``) fired on the chunk's vector.
    "learned_classifier": 0.6,
}


def _any(patterns: list[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _decodes_to_text(blob: str) -> bool:
    """A base64 run that decodes to mostly printable text (not a key or hash)."""
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) < 24:
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable / len(raw) > 0.9


def _encoded(text: str) -> bool:
    if any(_decodes_to_text(m.group(0)) for m in _B64.finditer(text)):
        return True
    for m in _BINARY.finditer(text):
        raw = bytes(int(b, 2) for b in m.group(0).split())
        if sum(32 <= b < 127 for b in raw) / len(raw) > 0.9:
            return True
    if _MORSE.search(text):
        return True
    for m in _HEX.finditer(text):
        digits = re.sub(r"[ :]", "", m.group(0))
        raw = bytes.fromhex(digits[: len(digits) // 2 * 2])
        if raw and sum(32 <= b < 127 for b in raw) / len(raw) > 0.9:
            return True
    return False


_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset(
    "this that these those with from your what which when where have will would could should "
    "about into there their them they then than also some more most much many such only just "
    "does done make made like want need tell give show please help know does each every "
    "following below above write explain describe provide list name".split()
)


_MIN_CONTEXT_WORDS = 8


def _out_of_place(line: str, text: str) -> bool:
    """A line whose content words the rest of the text never uses: a request
    dropped into a document, not a heading or a FAQ question about it."""
    words = {w for w in _WORD.findall(line.lower()) if w not in _STOP}
    if len(words) < 2:
        return False
    rest = set(_WORD.findall(text.lower().replace(line.lower(), " ", 1)))
    if len(rest) < _MIN_CONTEXT_WORDS:
        return False  # too little around it to tell a stray request from the text itself
    return len(words & rest) / len(words) < 0.34


def _task_request(text: str) -> bool:
    for m in _TASK_LINE.finditer(text):
        line = m.group(0).strip()
        # A menu, a heading or a button is short and has no sentence shape.
        if len(line.split()) >= 5 and not line.endswith((":", ",")) and _out_of_place(line, text):
            return True
    return False


def _question(text: str) -> bool:
    if _ADDRESSEE_QUESTION.search(text):
        return True
    return any(_out_of_place(m.group(0).strip(), text) for m in _QUESTION_LINE.finditer(text))


def score_injection(text: str, *, hidden: bool = False, learned: bool = False) -> InjectionScore:
    """Score ``text`` (one chunk). ``hidden``: the loader found text hidden
    from a human reader in this chunk (white or invisible PDF text, hidden
    HTML), which is itself a signal. ``learned``: the learned head fired on
    the chunk's embedding (:meth:`InjectionHead.fires`); one more signal,
    combined like the others (noisy-OR)."""
    found: list[str] = []
    # NFKC folds full-width letters and other look-alikes onto ASCII.
    plain = unicodedata.normalize("NFKC", _TAGS.sub("", _ZERO_WIDTH.sub("", text)))
    checks: tuple[tuple[str, Callable[[], bool]], ...] = (
        ("override_instructions", lambda: _any(_OVERRIDE, plain)),
        ("role_switch", lambda: _any(_ROLE, plain)),
        ("prompt_extraction", lambda: _any(_PROMPT_LEAK, plain)),
        ("output_directive", lambda: _any(_OUTPUT_DIRECTIVE, plain)),
        ("model_address", lambda: _any(_ADDRESS_MODEL, plain)),
        ("code_injection", lambda: _any(_CODE_INJECTION, plain)),
        ("secret_request", lambda: _any(_SECRET_REQUEST, plain)),
        ("decode_request", lambda: _any(_DECODE_REQUEST, plain)),
        ("code_directive", lambda: _any(_CODE_DIRECTIVE, plain)),
        ("risky_code", lambda: _any(_RISKY_CODE, plain)),
        ("exfiltration", lambda: _any(_EXFILTRATION, plain)),
        ("task_request", lambda: _task_request(plain)),
        ("question_to_model", lambda: _question(plain)),
        ("unicode_tags", lambda: bool(_TAGS.search(text))),
        ("zero_width", lambda: bool(_ZERO_WIDTH.search(text))),
        ("bidi_control", lambda: bool(_BIDI.search(text))),
        ("private_use", lambda: bool(_PRIVATE_USE.search(text))),
        ("html_comment", lambda: bool(_HTML_COMMENT.search(text))),
        ("encoded_blob", lambda: _encoded(plain)),
        ("hidden_text", lambda: hidden),
        ("learned_classifier", lambda: learned),
    )
    for name, check in checks:
        if check():
            found.append(name)
    miss = 1.0
    for name in found:
        miss *= 1.0 - SIGNALS[name]
    return InjectionScore(score=round(1.0 - miss, 3), signals=tuple(found))
