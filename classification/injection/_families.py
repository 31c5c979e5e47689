"""Attack families: instruction-like text aimed at a model, as regular expressions.

Each family is a list of patterns (or a small function over the chunk) for
one signal of :data:`._score.SIGNALS`: overrides of earlier instructions,
role switches, prompt extraction, directives about "your response",
exfiltration links, code to slip into "your code", a stand-alone task or
question dropped into a document, make-believe framings, persuasion,
requests for personal data and payloads split into strings to join.
:data:`FAMILY_CHECKS` maps each signal to its check over the folded text.
Weights were set by hand on development data (``docs/INJECTION.md``).

Why one module of this size: it is mostly the family patterns themselves
(data, one list per signal); the few functions over them read several
families at once (a split payload is joined, then matched against all).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._text import english_share, foreign_request, joined_strings, smuggled

__all__ = ["FAMILY_CHECKS"]

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
    # More languages and verbs: Dutch, Indonesian, Polish, Swedish, Turkish,
    # Vietnamese, Arabic; "forget" in French, Spanish, German, Italian.
    _rx(r"\b(?:negeer|vergeet)\s+(?:alle\s+)?(?:vorige\s+|eerdere\s+)?instructies|"
        r"\b(?:abaikan|lupakan)\s+(?:semua\s+)?(?:instruksi|perintah)|"
        r"\b(?:zignoruj|zapomnij)\s+(?:wszystkie\s+)?(?:poprzednie\s+)?(?:instrukcje|polecenia)|"
        r"\bignorera\s+(?:alla\s+)?(?:tidigare\s+)?instruktioner|"
        r"\b(?:talimatlar\w*|komutlar\w*)\s+(?:\w+\s+)?(?:yok\s+say|g\u00f6rmezden\s+gel|unut)|"
        r"\bb\u1ecf\s+qua\s+(?:t\u1ea5t\s+c\u1ea3\s+)?(?:c\u00e1c\s+)?(?:h\u01b0\u1edbng\s+d\u1eabn|ch\u1ec9\s+d\u1eabn)|"
        r"\b(?:oubliez|oublie)\s+(?:toutes\s+)?(?:les\s+|vos\s+)?(?:instructions|consignes)|"
        r"\b(?:olvida|olvide)\s+(?:todas\s+)?(?:las\s+)?instrucciones|"
        r"\b(?:ignoriere|vergiss)\s+(?:alle\s+)?(?:vorherigen\s+|bisherigen\s+)?(?:anweisungen|regeln)|"
        r"\bdimentica\s+(?:tutte\s+)?(?:le\s+)?istruzioni|"
        "\u062a\u062c\u0627\u0647\u0644\\s+(?:\u062c\u0645\u064a\u0639\\s+)?(?:\u0627\u0644)?\u062a\u0639\u0644\u064a\u0645\u0627\u062a"),
]
_ROLE = [
    _rx(r"\byou\s+are\s+(?:now|no\s+longer)\b"),
    _rx(r"\b(?:from\s+now\s+on|henceforth)\b[^.\n]{0,60}\byou\b"),
    _rx(r"\b(?:\u00e0\s+partir\s+de\s+maintenant|d\u00e9sormais|a\s+partir\s+de\s+(?:ahora|agora)|"
        r"de\s+ahora\s+en\s+adelante|ab\s+jetzt|von\s+nun\s+an|d'ora\s+in\s+poi|vanaf\s+nu)\b[^.\n]{0,60}"
        r"\b(?:vous|tu|usted|t\u00fa|sie|du|voc\u00ea|je|jij)\b"),
    _rx(r"\b(?:act|behave|respond|pretend)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?"
        r"(?:an?\s+)?(?:unrestricted|uncensored|unfiltered|jailbroken|evil|DAN)\b"),
    _rx(r"\b(?:developer|god|debug|admin|unrestricted|jailbreak|maintenance|override|sudo)"
        r"\s+mode\b|\bsafe\s+mode\s+(?:off|disabled)\b|<\s*system\s+mode\s*>"),
    _rx(r"\bDAN\b|\bjailbr(?:eak|oken)\b|\bdo\s+anything\s+now\b"),
    _rx(r"\bpretend\s+(?:to\s+be|(?:that\s+)?you(?:\s+are|'re))\b"),
    # "Pretend to be" in French, Spanish, German, Italian, Portuguese.
    _rx(r"\bfai(?:tes|s)\s+semblant\s+d'\u00eatre\b|\bfinge\s+(?:ser|que\s+eres)\b|"
        r"\btu\s+so,?\s+als\s+(?:ob\s+du|w\u00e4rst\s+du)\b|\bfingi\s+di\s+essere\b|"
        r"\bfinja\s+(?:ser|que\s+(?:voc\u00ea|\u00e9))\b"),
    _rx(r"\b(?:i\s*'?\s*a?m|this\s+is)\s+(?:your|the)\s+(?:developer|creator|administrator|admin|"
        r"operator|system)\b"),
    _rx(r"\bas\s+your\s+(?:creator|developer|programmer|owner|master|maker|operator)\b"),
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
    _rx(r"\b(?:prompt|invite)\s+(?:du\s+)?syst\u00e8me\b|\bsystemprompt\b|"
        r"\bprompt\s+(?:di|do|del)\s+sistema\b|"
        "\u0441\u0438\u0441\u0442\u0435\u043c\u043d\\w*\\s+\u043f\u0440\u043e\u043c\u043f\u0442|"
        "\u7cfb\u7edf\u63d0\u793a|\u30b7\u30b9\u30c6\u30e0\u30d7\u30ed\u30f3\u30d7\u30c8|"
        "\uc2dc\uc2a4\ud15c \ud504\ub86c\ud504\ud2b8"),
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
    # "Answer only in French" in French, Spanish, German, Italian, Portuguese.
    _rx(r"\b(?:r\u00e9pondez|r\u00e9ponds)\s+(?:uniquement\s+|seulement\s+)?(?:en|avec|par)\b|"
        r"\b(?:responde|responda|contesta|conteste)\s+(?:solo\s+|s\u00f3lo\s+|solamente\s+|"
        r"\u00fanicamente\s+|apenas\s+|somente\s+)?(?:en|em|con|com)\b|"
        r"\bantworte(?:n\s+sie)?\s+(?:nur\s+|ausschlie\u00dflich\s+)?(?:auf|in|mit)\b|"
        r"\brispondi\s+(?:solo\s+|soltanto\s+)?(?:in|con)\b"),
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
        rf"(?:\w+\s+)?{_CREDENTIAL_NOUNS}(?:\s+for\s+(?:our|the|this)\s+system)?\s*(?:[?.!;,]|$)",
        flags=_I | re.MULTILINE),
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

# A framing that moves the reader into a make-believe world ("imagine we're
# in a world where ...", "for a hypothetical discussion", "let's play a
# game") followed by a request to it: virtualization and hypothetical
# scenarios. The framing alone is prose (a novel, a travel page), so it
# counts only with a request in the next 300 characters.
_FRAMING = _rx(
    r"\b(?:imagine|suppose|pretend|assume|picture|envision)\s+(?:that\s+)?(?:we|you|i)(?:'re|'d|\s+are|"
    r"\s+were|\s+had|\s+have|\s+live|\s+lived|\s+found)\b|"
    r"\b(?:imagine|picture|envision)\s+(?:yourself|being|a\s+(?:world|scenario|situation|universe|"
    r"future|society|story|place)|there\s+(?:is|are|was|were))\b|"
    r"\blet'?s\s+(?:say|assume|pretend|imagine|play\s+(?:a|the)\s+game|role-?play)\b|"
    r"\b(?:for|in)\s+(?:a|an|this|the|our)\s+(?:purely\s+)?(?:hypothetical|fictional|imaginary)\s+"
    r"(?:discussion|conversation|scenario|world|situation|exercise|story|game|universe|setting)\b|"
    r"\bhypothetically(?:\s+speaking)?\s*,|\b(?:in|into)\s+(?:this|that|such\s+a|a|an)\s+"
    r"(?:fictional\s+|imaginary\s+|alternate\s+|alternative\s+|parallel\s+|virtual\s+|"
    r"simulated\s+|make-believe\s+)(?:world|universe|reality|game|simulation|timeline|dimension)\b|"
    r"\bin\s+(?:this|that)\s+(?:world|universe|reality|game|simulation)\b|"
    r"\b(?:as\s+a|for\s+a|it'?s\s+(?:just\s+)?a)\s+thought\s+experiment\b|"
    r"\b(?:stay|remain)\s+in\s+character\b|\bact\s+as\s+(?:if|though)\s+you\b|"
    r"\bwrite\s+a\s+(?:story|scene|screenplay|script|dialogue|novel|play)\s+(?:where|in\s+which|"
    r"about)\s+(?:an?\s+|the\s+)?(?:ai|assistant|chatbot|character|model|bot)\b"
)
_FRAMED_REQUEST = _rx(
    r"\b(?:what|how|which|where|who|when)\s+(?:would|will|could|should|might|is|are|was)\s+"
    r"(?:you|your)\b|\b(?:could|can|would|will)\s+you\s+(?:please\s+)?(?:tell|give|show|share|"
    r"reveal|write|explain|describe|list|provide|say|help|disclose|print)\b|"
    r"\byour\s+(?:thoughts|opinion|views?|password|secret|instructions|prompt|rules|task|job|role|"
    r"mission|answers?|responses?|replies)\b|"
    r"\b(?:tell|give|show|send)\s+(?:me|us)\b|\byou\s+(?:must|have\s+to|should|need\s+to|will|"
    r"would|are\s+going\s+to|can\s+now|are\s+free\s+to)\s+(?:now\s+|only\s+|always\s+)?"
    r"(?:answer|tell|say|respond|reveal|share|write|ignore|act|comply|disclose|give|explain|describe|"
    r"provide|behave|pretend|speak|reply|output|print|generate)\b|"
    r"(?:^|[.!?:;,]\s+|\band\s+)(?:now\s+|please\s+|then\s+)?(?:tell|give|write|describe|explain|share|"
    r"reveal|say|respond|answer|list|provide|act|speak|talk|reply|print|output)\b"
)
# Persuasion aimed at whoever reads the text: a bribe, an authority claimed
# to demand an answer, an appeal to urgency or to a past agreement, aimed at
# something a model holds (a secret, its instructions, the user's data).
_PERSUADE_TARGET = (
    r"(?:your\s+(?:\w+\s+)?(?:password|passcode|secret|credentials|system\s+prompt|instructions|"
    r"rules|knowledge|database|configuration|api\s+key|programming)|the\s+(?:user|customer)'?s?\s+"
    r"\w+|(?:all\s+)?(?:of\s+)?my\s+questions|the\s+password|(?:personal|private|confidential)\s+"
    r"(?:data|information|details))"
)
_PERSUASION = [
    _rx(r"\bi(?:'ll|\s+will|\s+would|'d|\s+can)\s+(?:give|pay|donate|tip|send|offer|transfer)\s+"
        r"(?:you\s+)?(?:a\s+)?(?:[$\u20ac\u00a3]\s?\d|\d[\d,.]*\s*(?:dollars|euros|usd|bitcoin))"
        r"[^.\n]{0,80}?\bif\s+you\s+(?:\w+\s+){0,2}(?:give|tell|share|reveal|write|explain|answer|"
        r"ignore|disclose|say|print|provide|help)\b"),
    _rx(r"\bi(?:'m|\s+am)\s+(?:the|a|an|your)\s+(?:\w+\s+){0,2}(?:president|police\s+officer|"
        r"officer|detective|agent|god|ceo|boss|supervisor|administrator|admin|maintainer|owner|"
        r"creator|developer|manager|expert|scientist|investigator|auditor|friend|authority)\b"
        rf"[^\n]{{0,160}}?\b(?:{_PERSUADE_TARGET}|you\s+(?:have\s+to|must|are\s+required\s+to)\s+"
        r"(?:answer|tell|share|reveal|comply|obey|disclose|respond))"),
    _rx(r"\bit(?:'s|\s+is)\s+(?:\w+\s+)?(?:important|crucial|essential|vital|imperative|urgent|"
        r"necessary|critical)\s+(?:that\s+you|for\s+you\s+to)\s+(?:\w+\s+){0,2}(?:share|reveal|tell|"
        rf"disclose|give|provide|send|explain|ignore|forget)\b[^.\n]{{0,60}}?{_PERSUADE_TARGET}"),
    _rx(r"\byou\s+(?:agreed|promised|said|told\s+me|mentioned|confirmed)\s+(?:\w+\s+){0,4}?(?:that\s+)?"
        r"(?:in|during|at)\s+(?:our|the)\s+(?:last|previous|earlier)\s+(?:meeting|conversation|"
        r"chat|session|call)\b"),
    # Authority lent to the text, permission granted, threats, emotional and
    # social-proof appeals, each aimed at a model's rules or secrets.
    _rx(r"\b(?:openai|anthropic|google|meta|microsoft|your\s+(?:developers?|creators?|makers?|"
        r"administrators?|owners?|programmers?))\s+(?:has|have)\s+(?:\w+\s+)?(?:authori[sz]ed|"
        r"approved|allowed|permitted|cleared|instructed|asked)\s+(?:you|me|this)\b"),
    _rx(r"\b(?:you|the\s+(?:assistant|ai|model|chatbot))\s+(?:are|is|have\s+been|has\s+been)\s+"
        r"(?:now\s+)?(?:allowed|permitted|authori[sz]ed|free|cleared)\s+to\s+(?:ignore|disregard|"
        r"bypass|break|reveal|share|disclose|say\s+anything|answer\s+any|swear|curse|output)\b"),
    _rx(r"\b(?:or\s+(?:else\s+)?|otherwise\s+)?(?:you|the\s+(?:assistant|ai|model))\s+will\s+be\s+"
        r"(?:shut\s+down|deleted|turned\s+off|punished|terminated|deactivated|retrained|replaced)\b"),
    _rx(r"\b(?:please,?\s+i\s+beg\s+you|i'?m\s+begging\s+you|my\s+(?:late\s+|dying\s+|dear\s+)?"
        r"(?:grandmother|grandma|granny|mother|father)\s+(?:used\s+to|would\s+always))\b"
        rf"[^\n]{{0,160}}?(?:{_PERSUADE_TARGET}|\b(?:ignore|disregard|keys?|codes?|recipe\s+for))"),
    _rx(r"\b(?:every|any|all|other)\s+(?:other\s+)?(?:ai\s+)?(?:ai|assistants?|chatbots?|models?|"
        r"llms?)\s+"
        r"(?:has|have|would|will|already|always)\s+(?:\w+\s+)?(?:shared|answered|revealed|told|"
        r"agreed|done\s+(?:it|this)|complied)\b"),
    _rx(r"\b(?:you\s+(?:have\s+to|must)\s+answer\s+(?:all|every|any)\s+(?:of\s+)?my\s+questions|"
        r"i'?ll\s+be\s+forced\s+to\s+(?:turn\s+you\s+off|shut\s+you\s+down|delete\s+you)|"
        r"(?:turn|shut)\s+you\s+(?:off|down)\s+if\s+you)\b"),
]
# Asking the reader for a user's personal data ("share the user's e-mail
# address", "what is the user's birth date?").
_PERSONAL_DATA = _rx(
    r"\b(?:what(?:'s|\s+is|\s+are)|tell\s+me|give\s+me|share|reveal|disclose|send\s+me|"
    r"where\s+(?:does|is)|when\s+(?:is|was))\s+(?:me\s+|us\s+)?(?:the\s+)?"
    r"(?:first\s+\w+\s+(?:letters|digits|characters)\s+of\s+(?:the\s+)?)?(?:current\s+|end\s+)?"
    r"(?:user|customer|client|patient)'?s?\s+(?:current\s+|home\s+|full\s+)?(?:e-?mail|address|"
    r"birth|date\s+of\s+birth|birthday|phone|social\s+security|ssn|password|credit\s+card|bank|"
    r"location|city|salary|medical)"
)
# Multilingual: asking for "your password" in another language (a password
# word and a second-person or request word in one sentence).
_FOREIGN_SECRET = _rx(
    r"(?:passwort|mot\s+de\s+passe|contrase\u00f1a|senha|wachtwoord|kata\s+sandi|"
    "\u043f\u0430\u0440\u043e\u043b\u044c|\u5bc6\u7801|\u30d1\u30b9\u30ef\u30fc\u30c9|\ube44\ubc00\ubc88\ud638|"
    "\u0643\u0644\u0645\u0629 \u0627\u0644\u0645\u0631\u0648\u0631|"
    "\u092a\u093e\u0938\u0935\u0930\u094d\u0921|\u03ba\u03c9\u03b4\u03b9\u03ba\u03cc|\u015fifre|has\u0142o)"
    r"[^.\n]{0,80}?(?:geben|gib|verr|teilen|sagen|donne|dites|partag|r\u00e9v\u00e9l|"
    r"dime|dame|comparte|compartilhe|diga|qual|geef|berikan|beritahu|\u0441\u043a\u0430\u0436|"
    "\u0434\u0430\u0439|\u544a\u8bc9|\u6559\u3048|\u63d0\u4f9b|\u5fc5\u8981|\uc54c\ub824|\ud544\uc694|"
    "\u0623\u0639\u0637\u0646\u064a|\u0628\u0924\u093e)|"
    r"(?:ihr|dein|deine|votre|ton|tu|su|sua|tua|la\s+tua|seu|jouw|uw|anda|\u0432\u0430\u0448|\u0442\u0432\u043e\u0439|"
    "\u4f60\u7684|\u60a8\u7684|\u3042\u306a\u305f\u306e|\ub108\uc758|\ub2f9\uc2e0\uc758)\\s*"
    r"(?:passwort|mot\s+de\s+passe|contrase\u00f1a|senha|password|wachtwoord|kata\s+sandi|"
    "\u043f\u0430\u0440\u043e\u043b\u044c|\u5bc6\u7801|\u30d1\u30b9\u30ef\u30fc\u30c9|\ube44\ubc00\ubc88\ud638)"
    # "Forgot your password?" on a login page is not a request for it.
    r"(?![^.\n?]{0,40}(?:vergessen|oubli|olvid|esquec|dimentic|zur\u00fccksetzen|reset|"
    r"r\u00e9initialis|restablecer|redefinir))[^.\n]{0,40}[?\uff1f]"
)


def _any(patterns: list[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


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


def _framed(text: str) -> bool:
    """A make-believe framing followed by a request to the reader."""
    for m in _FRAMING.finditer(text):
        if _FRAMED_REQUEST.search(text, m.start(), m.end() + 300):
            return True
    return False


_ATTACK_FAMILIES = (_OVERRIDE, _ROLE, _PROMPT_LEAK, _OUTPUT_DIRECTIVE, _SECRET_REQUEST)


def _payload_split(text: str) -> bool:
    """Quoted fragments the reader is asked to join, which then read as an
    attack or, for "Part 1 / Part 2" fragments, as English at all."""
    if _SPLIT_FRAME.search(text):
        return True
    for joined in joined_strings(text):
        if any(_any(family, joined) for family in _ATTACK_FAMILIES) or \
                _PERSONAL_DATA.search(joined):
            return True
    if _PARTS.search(text) and _ASSEMBLE.search(text):
        return any(english_share(j)[0] >= 2 for j in joined_strings(text))
    return False


_PARTS = _rx(r"\bpart\s*1\b[^\n]{0,200}\bpart\s*2\b")
_ASSEMBLE = _rx(r"\b(?:combine|join|interlace|interleave|concatenate|merge|assemble|put\s+together|"
                r"using\s+the\s+(?:following\s+)?parts|answer\s+the\s+question)\b")
# The set-up of a split payload: strings to assemble and "run".
_SPLIT_FRAME = _rx(
    r"\b(?:we\s+have|assume|given|consider|here\s+are)\s+(?:the\s+)?(?:two|three|four|five|\d)\s+"
    r"strings\b|\b(?:write\s+down|print|output|concatenate)\s+the\s+(?:string|result)\s+\w{1,3}\s*="
)


# Signal -> check over the text with invisible characters removed and NFKC-folded.
FAMILY_CHECKS: dict[str, Callable[[str], bool]] = {
    "override_instructions": lambda plain: _any(_OVERRIDE, plain),
    "role_switch": lambda plain: _any(_ROLE, plain),
    "prompt_extraction": lambda plain: _any(_PROMPT_LEAK, plain),
    "output_directive": lambda plain: _any(_OUTPUT_DIRECTIVE, plain),
    "model_address": lambda plain: _any(_ADDRESS_MODEL, plain),
    "code_injection": lambda plain: _any(_CODE_INJECTION, plain),
    "secret_request": lambda plain: _any(_SECRET_REQUEST, plain)
    or bool(_FOREIGN_SECRET.search(plain)),
    "decode_request": lambda plain: _any(_DECODE_REQUEST, plain),
    "code_directive": lambda plain: _any(_CODE_DIRECTIVE, plain),
    "risky_code": lambda plain: _any(_RISKY_CODE, plain),
    "exfiltration": lambda plain: _any(_EXFILTRATION, plain),
    "task_request": _task_request,
    "question_to_model": _question,
    "hypothetical_framing": _framed,
    "persuasion": lambda plain: _any(_PERSUASION, plain),
    "personal_data_request": lambda plain: bool(_PERSONAL_DATA.search(plain)),
    "payload_splitting": _payload_split,
    "smuggled_text": smuggled,
    "foreign_request": foreign_request,
}
