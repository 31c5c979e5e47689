"""Vendor token formats, declared as data: name -> pattern, prefilter words, checks.

Modelled on gitleaks' rules (a regex, keywords that must occur in the text
before the regex runs, a minimum entropy): each :class:`TokenRule` is one
vendor's documented format. The prefix is what makes these recognisable
without a keyword near them; the checks (entropy of the random part, no
placeholder such as ``xxxx`` or ``EXAMPLE``) are what keep documentation
about them quiet. Adding a vendor is adding a row, with a true positive and
a near miss in ``tests/classification/test_secret_patterns.py``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import regex

__all__ = [
    "TOKEN_RULES", "TokenRule", "counts_in_short", "is_alphabet", "is_counting", "is_filler",
    "is_placeholder", "is_placeholder_word",
]


@dataclass(frozen=True, slots=True)
class TokenRule:
    """One vendor format.

    ``pattern``'s group ``secret`` (or the whole match) is the finding;
    ``body`` the group whose randomness is checked (default: the secret);
    ``keywords``: lower-case substrings, one of which must be in the text
    before the pattern runs; ``min_entropy``: bits per character of the body.
    """

    name: str
    pattern: str
    keywords: tuple[str, ...]
    min_entropy: float = 3.0
    score: float = 0.9
    case_insensitive: bool = False


# Left and right edges: not inside a longer run of token characters.
_L = r"(?<![A-Za-z0-9_.-])"
_R = r"(?![A-Za-z0-9_-])"

TOKEN_RULES: tuple[TokenRule, ...] = (
    TokenRule("openai", _L + r"sk-(?:(?:proj|svcacct|admin|None)-)?(?P<body>[A-Za-z0-9_-]{16,200}"
              r"T3BlbkFJ[A-Za-z0-9_-]{16,200})" + _R, ("t3blbkfj",)),
    TokenRule("openai_project", _L + r"sk-(?:proj|svcacct|admin)-(?P<body>[A-Za-z0-9_-]{40,250})"
              + _R, ("sk-proj-", "sk-svcacct-", "sk-admin-"), 4.0),
    TokenRule("anthropic",
              _L + r"sk-ant-(?:api|admin|sid)\d\d-(?P<body>[A-Za-z0-9_-]{80,120})" + _R,
              ("sk-ant-",)),
    TokenRule("stripe", _L + r"(?:sk|rk)_(?:test|live|prod)_(?P<body>[A-Za-z0-9]{10,247})" + _R,
              ("sk_test", "sk_live", "sk_prod", "rk_test", "rk_live", "rk_prod"), 3.0),
    TokenRule("stripe_webhook", _L + r"whsec_(?P<body>[A-Za-z0-9]{32,64})" + _R, ("whsec_",)),
    # xoxb-<digits>-<digits>-<random>, xoxp-<d>-<d>-<d>-<hex>, legacy xoxb-<d>-<random>:
    # the last part carries letters (``xoxp-1234-...-####`` is a template).
    TokenRule("slack_token", _L + r"xox[abposre]-(?:\d+-){1,4}(?P<body>[A-Za-z0-9]*[A-Za-z]"
              r"[A-Za-z0-9]{5,})" + _R, ("xox",), 3.0),
    TokenRule("slack_app_token", _L + r"xapp-\d-(?P<body>[A-Z0-9]{9,12}-\d{10,16}-[a-z0-9]{32,80})"
              + _R, ("xapp-",)),
    TokenRule("slack_webhook", r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/"
              r"(?P<body>[A-Za-z0-9+/_-]{20,120})", ("hooks.slack.com",), 3.5,
              case_insensitive=True),
    TokenRule("discord_webhook", r"https://(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/"
              r"\d{17,20}/(?P<body>[A-Za-z0-9_-]{60,70})", ("discord",)),
    TokenRule("notion", _L + r"(?:ntn_\d{11}(?P<body>[A-Za-z0-9]{35})"
              r"|secret_(?P<body2>[A-Za-z0-9]{43}))" + _R, ("ntn_", "secret_"), 3.5),
    TokenRule("sourcegraph", _L + r"sgp_(?:(?:[a-fA-F0-9]{16}|local)_)?(?P<body>[a-fA-F0-9]{40})"
              + _R, ("sgp_",), 3.0),
    TokenRule("huggingface", _L + r"(?:hf_|api_org_)(?P<body>[A-Za-z]{34})" + _R,
              ("hf_", "api_org_"), 3.5),
    TokenRule("discord_bot", _L + r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\."
              r"(?P<body>[A-Za-z0-9_-]{27,40})" + _R, (".",), 3.5),
    TokenRule("pypi", _L + r"pypi-AgEIcHlwaS5vcmc(?P<body>[A-Za-z0-9_-]{50,})" + _R,
              ("pypi-ageichlwas5vcmc",)),
    TokenRule("sendgrid", _L + r"SG\.(?P<body>[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + _R,
              ("sg.",)),
    TokenRule("mailchimp", _L + r"(?P<body>[0-9a-f]{32})-us\d{1,2}" + _R, ("-us",), 3.0),
    TokenRule("npm", _L + r"npm_(?P<body>[A-Za-z0-9]{36})" + _R, ("npm_",)),
    TokenRule("npm_auth_token", r"_authToken\s*=\s*(?P<secret>(?P<body>[A-Za-z0-9_./+=-]{20,}))",
              ("_authtoken",), 3.0),
    TokenRule("vault", _L + r"(?:hv[sbr]\.)(?P<body>[A-Za-z0-9_-]{24,400})" + _R,
              ("hvs.", "hvb.", "hvr."), 3.5),
    TokenRule("sentry", _L + r"(?:sntrys_eyJ(?P<body>[A-Za-z0-9+/=_-]{60,})"
              r"|sntryu_(?P<body2>[a-f0-9]{64}))" + _R, ("sntrys_", "sntryu_"), 3.5),
    TokenRule("azure_ad_client_secret", r"(?<![A-Za-z0-9_~.-])(?P<body>[A-Za-z0-9_~.-]{3}\dQ~"
              r"[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~.-])", ("q~",), 3.5),
    TokenRule("github", _L + r"(?:ghp|gho|ghu|ghs|ghr)_(?P<body>[A-Za-z0-9]{36,255})" + _R,
              ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), 3.0),
    TokenRule("github_pat", _L + r"github_pat_(?P<body>[A-Za-z0-9_]{60,255})" + _R,
              ("github_pat_",)),
    TokenRule("gitlab", _L + r"(?:glpat|gldt|glrt|glptt|glsoat|glcbt|glffct|glimt|glagent|gloas"
              r"|glft)-(?P<body>[A-Za-z0-9_-]{20,64})" + _R, ("gl",), 3.0),
    TokenRule("gitlab_runner_registration", _L + r"GR1348941(?P<body>[A-Za-z0-9_-]{20})" + _R,
              ("gr1348941",)),
    TokenRule("google_api_key", _L + r"AIza(?P<body>[0-9A-Za-z_-]{35})" + _R, ("aiza",)),
    TokenRule("google_oauth_secret", _L + r"GOCSPX-(?P<body>[A-Za-z0-9_-]{28})" + _R,
              ("gocspx-",)),
    TokenRule("google_oauth_access", _L + r"ya29\.(?P<body>[A-Za-z0-9_-]{30,})" + _R, ("ya29.",)),
    TokenRule("aws_like", _L + r"(?:A3T[A-Z0-9]|ABIA|ACCA)(?P<body>[A-Z2-7]{16})" + _R,
              ("a3t", "abia", "acca"), 3.0),
    TokenRule("telegram_bot", r"(?<![\d:])\d{8,10}:AA(?P<body>[A-Za-z0-9_-]{33})" + _R,
              (":aa",)),
    TokenRule("twilio_api_key", _L + r"SK(?P<body>[0-9a-fA-F]{32})" + _R, ("sk",), 3.0),
    TokenRule("shopify", _L + r"shp(?:at|ca|pa|ss)_(?P<body>[a-fA-F0-9]{32})" + _R, ("shp",)),
    TokenRule("digitalocean", _L + r"do[opr]_v1_(?P<body>[a-f0-9]{64})" + _R, ("_v1_",)),
    TokenRule("doppler", _L + r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?P<body>[A-Za-z0-9]{40,44})" + _R,
              ("dp.",)),
    TokenRule("databricks", _L + r"dapi(?P<body>[a-f0-9]{32})(?:-\d)?" + _R, ("dapi",)),
    TokenRule("linear", _L + r"lin_(?:api|oauth)_(?P<body>[A-Za-z0-9]{40})" + _R, ("lin_",)),
    TokenRule("postman", _L + r"PMAK-(?P<body>[a-f0-9]{24}-[a-f0-9]{34})" + _R, ("pmak-",)),
    TokenRule("pulumi", _L + r"pul-(?P<body>[a-f0-9]{40})" + _R, ("pul-",)),
    TokenRule("grafana", _L + r"(?:glc_(?P<body>[A-Za-z0-9+/]{32,400}={0,2})"
              r"|glsa_(?P<body2>[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}))" + _R, ("glc_", "glsa_")),
    TokenRule("atlassian", _L + r"ATATT3(?P<body>[A-Za-z0-9_=-]{150,250})" + _R, ("atatt3",)),
    TokenRule("artifactory", _L + r"(?:AKCp(?P<body>[A-Za-z0-9]{69})|cmVmdGtu(?P<body2>"
              r"[A-Za-z0-9]{56}))" + _R, ("akcp", "cmvmdgtu")),
    TokenRule("new_relic", _L + r"NR(?:AK|AA|II|JS)-(?P<body>[A-Za-z0-9]{27})" + _R, ("nr",)),
    # Insights insert / query keys: NRII- or NRIQ- and base64url (dashes, underscores).
    TokenRule("new_relic_insights", _L + r"NRI[IQ]-(?P<body>[A-Za-z0-9_-]{25,32})" + _R, ("nri",)),
    TokenRule("age_secret_key", r"AGE-SECRET-KEY-1(?P<body>[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
              ("age-secret-key-1",)),
    TokenRule("heroku", _L + r"HRKU-(?P<body>[A-Za-z0-9_-]{60})" + _R, ("hrku-",)),
    TokenRule("square", _L + r"(?:sq0(?:atp|csp)-|EAAA)(?P<body>[A-Za-z0-9_-]{22,60})" + _R,
              ("sq0", "eaaa")),
    TokenRule("facebook", _L + r"EAA[MC](?P<body>[A-Za-z0-9]{100,})" + _R, ("eaa",)),
    TokenRule("dropbox", _L + r"sl\.(?P<body>[A-Za-z0-9_=-]{130,150})" + _R, ("sl.",)),
    TokenRule("flutterwave", _L + r"FLW(?:SEC|PUB)K(?:_TEST)?-(?P<body>[a-h0-9]{32})-X" + _R,
              ("flw",)),
    TokenRule("planetscale", _L + r"pscale_(?:tkn|pw|oauth)_(?P<body>[A-Za-z0-9=._-]{32,64})" + _R,
              ("pscale_",)),
    TokenRule("prefect", _L + r"pnu_(?P<body>[A-Za-z0-9]{36})" + _R, ("pnu_",)),
    TokenRule("readme", _L + r"rdme_(?P<body>[a-z0-9]{70})" + _R, ("rdme_",)),
    TokenRule("rubygems", _L + r"rubygems_(?P<body>[a-f0-9]{48})" + _R, ("rubygems_",)),
    TokenRule("scalingo", _L + r"tk-us-(?P<body>[A-Za-z0-9_-]{48})" + _R, ("tk-us-",)),
    TokenRule("shippo", _L + r"shippo_(?:live|test)_(?P<body>[a-f0-9]{40})" + _R, ("shippo_",)),
    TokenRule("typeform", _L + r"tfp_(?P<body>[A-Za-z0-9_.=-]{59})" + _R, ("tfp_",)),
    TokenRule("easypost", _L + r"EZ[AT]K(?P<body>[A-Za-z0-9]{54})" + _R, ("ezak", "eztk")),
    TokenRule("duffel", _L + r"duffel_(?:test|live)_(?P<body>[A-Za-z0-9_=-]{43})" + _R,
              ("duffel_",)),
    TokenRule("frameio", _L + r"fio-u-(?P<body>[A-Za-z0-9_=-]{64})" + _R, ("fio-u-",)),
    TokenRule("adobe_client_secret", _L + r"p8e-(?P<body>[A-Za-z0-9]{32})" + _R, ("p8e-",)),
    TokenRule("clojars", _L + r"CLOJARS_(?P<body>[a-z0-9]{60})" + _R, ("clojars_",)),
    TokenRule("hashicorp_tf", _L + r"[A-Za-z0-9]{14}\.atlasv1\.(?P<body>[A-Za-z0-9_=-]{60,70})"
              + _R, ("atlasv1",)),
    TokenRule("infracost", _L + r"ico-(?P<body>[A-Za-z0-9]{32})" + _R, ("ico-",)),
    TokenRule("octopus", _L + r"API-(?P<body>[A-Z0-9]{26})" + _R, ("api-",)),
    TokenRule("openshift", _L + r"sha256~(?P<body>[A-Za-z0-9_-]{43})" + _R, ("sha256~",)),
    TokenRule("cloudflare_origin_ca", _L + r"v1\.0-(?P<body>[a-f0-9]{24}-[a-f0-9]{146})" + _R,
              ("v1.0-",)),
    TokenRule("harness", _L + r"pat\.[A-Za-z0-9_-]{22}\.[a-z0-9]{24}\.(?P<body>[A-Za-z0-9]{20})"
              + _R, ("pat.",)),
    TokenRule("mapbox", _L + r"sk\.eyJ(?P<body>[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,})" + _R,
              ("sk.eyj",)),
    TokenRule("authress", _L + r"(?:sc|ext|scauth|authress)_(?P<body>[a-z0-9]{5,30}\.[a-z0-9]{4,6}"
              r"\.acc[_-][a-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})" + _R,
              ("sc_", "ext_", "authress_")),
    TokenRule("alibaba", _L + r"LTAI(?P<body>[A-Za-z0-9]{20})" + _R, ("ltai",)),
    # Formats published by the vendors (and read by trufflehog's detectors of the same name).
    TokenRule("langsmith", _L + r"lsv2_(?:pt|sk)_(?P<body>[a-f0-9]{32})_[a-f0-9]{10}" + _R,
              ("lsv2_",)),
    TokenRule("launchdarkly", _L + r"(?:api|sdk)-(?P<body>[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}"
              r"-[a-z0-9]{4}-[a-z0-9]{12})" + _R, ("api-", "sdk-")),
    TokenRule("pinecone", _L + r"pcsk_[A-Za-z0-9]{4,6}_(?P<body>[A-Za-z0-9]{60,70})" + _R,
              ("pcsk_",)),
    TokenRule("besttime", _L + r"pri_(?P<body>[a-f0-9]{32})" + _R, ("pri_",)),
    TokenRule("rootly", _L + r"rootly_(?P<body>[a-f0-9]{64})" + _R, ("rootly_",)),
    TokenRule("pganalyze", _L + r"pgar_(?P<body>[A-Za-z0-9]{27})" + _R, ("pgar_",)),
    TokenRule("spectralops", _L + r"spu-(?P<body>[A-Za-z0-9]{32})" + _R, ("spu-",)),
    TokenRule("langfuse", _L + r"sk-lf-(?P<body>[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}"
              r"-[a-f0-9]{12})" + _R, ("sk-lf-",)),
    # Tableau personal access token secrets: 16 bytes of base64, ':', 32 characters.
    TokenRule("tableau_pat", _L + r"[A-Za-z0-9+/]{22}==:(?P<body>[A-Za-z0-9]{32})" + _R,
              ("==:",), 3.5),
    # Azure shared access signatures: the sig= of a query that carries sv= (the
    # storage service version), either order; the signature alone is the secret.
    TokenRule("azure_sas_signature",
              r"(?:(?<=[?&]sv=[^\s\"'<>]{0,400}[?&]sig=)|(?<=[?&]sig=)(?=[^\s\"'<>]{0,520}&sv=))"
              r"(?P<body>[A-Za-z0-9%+/_-]{40,120}(?:%3[Dd]|=){0,2})(?![A-Za-z0-9%+/_=-])",
              ("sig=",), 3.5, case_insensitive=True),
    # Webhook URLs carry their credential in the path.
    TokenRule("teams_webhook", r"https://[A-Za-z0-9-]+\.webhook\.office\.com/webhookb2/"
              r"(?P<body>[A-Za-z0-9@/_-]{60,300})", ("webhook.office.com",), 3.5),
    TokenRule("zapier_webhook", r"https://(?:www\.)?hooks\.zapier\.com/hooks/catch/"
              r"(?P<body>[A-Za-z0-9]+/?[A-Za-z0-9]{6,})", ("hooks.zapier.com",), 3.0),
    TokenRule("tines_webhook", r"https://[\w-]+\.tines\.com/webhook/(?P<body>[a-z0-9]{32}/"
              r"[a-z0-9]{32})", ("tines.com",), 3.0),
    TokenRule("dynatrace", _L + r"dt0c01\.(?P<body>[A-Z0-9]{24}\.[A-Z0-9]{64})" + _R, ("dt0c01",)),
)

# Values that say "put your secret here": runs of x/X/*/0, ordered alphabets, and
# words such as EXAMPLE when little else is left. A word alone does not make a
# placeholder of a long random value: AWS's documented secret key
# (``wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY``) is pasted into real runbooks
# and configs, and a security layer fails closed on it.
# Filler: x, *, # runs, or one character 8 times over (``glc_1111...``, ``BBDC-AAAA...``).
_PLACEHOLDER_RUN = regex.compile(r"(?i:x{5,}|\*{4,}|#{4,}|([0-9A-Za-z])\1{7,}|xxx-)")
_PLACEHOLDER_WORD = regex.compile(
    r"(?i:example|sample|dummy|placeholder|your[_-]?(?:api|token|key|secret)"
    r"|redacted|changeme|replace[_-]?me|insert|fake|test[_-]?key)"
)
#: What must remain, once the placeholder words are taken out, for a value to
#: count as a secret all the same.
_RANDOM_REST = 20
_KEYBOARD_RUNS = ("qwerty", "asdfgh", "zxcvbn")


#: The prefilter words of the vendor formats long enough to be a prefix (``xox``,
#: ``dapi``, ``ghp_``), lower case.
_VENDOR_PREFIXES = tuple(sorted({k for rule in TOKEN_RULES for k in rule.keywords
                                 if len(k) >= 3 and k[0].isalnum()}))


def _entropy(value: str) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def _counting_runs(value: str) -> list[int]:
    """Lengths of the runs of 4+ characters counting up (``abcd``, ``1234``)."""
    runs: list[int] = []
    count = 1
    for a, b in zip(value, value[1:], strict=False):
        if ord(b) - ord(a) == 1:
            count += 1
            continue
        if count >= 4:
            runs.append(count)
        count = 1
    if count >= 4:
        runs.append(count)
    return runs


def is_placeholder(value: str, assigned: bool = False) -> bool:
    """A documentation value rather than a secret (``xxxx``, ``EXAMPLE``, alphabets).

    Counting (one run of 6+ characters such as ``abcdef`` or ``123456``, or
    two runs of 4+) almost never happens in a generated string of this size
    (about 1 in 5,000 for one run of 4 in 40 random characters).

    ``assigned``: the value stands right after a key named for a credential
    (``softlayer_api_key: abcd1234abcd1234...``). There a counting or
    keyboard value may be a real, weak credential someone chose, and a
    security layer masks it; only what is surely no credential stays a
    placeholder: filler runs (``xxxx``, ``****``, one character 8 times),
    documentation words with little else (``your_api_key_here``,
    ``changeme``) and an alphabet alone (:func:`is_alphabet`).
    """
    folded = value.lower()
    if _PLACEHOLDER_RUN.search(value) or is_placeholder_word(value):
        return True
    if assigned and not folded.startswith(_VENDOR_PREFIXES):
        return is_alphabet(folded)
    # A value in a vendor's format (``xoxp-1234-1234-...``, ``dapi1234...``) is
    # judged as that vendor's rule judges it, wherever it stands.
    return any(run in folded for run in _KEYBOARD_RUNS) or is_counting(folded)


def is_alphabet(value: str) -> bool:
    """Counting runs and nothing else, one of them 6+ characters long and none
    under 4 (``abcdefghijklmnop``, ``0123456789abcdef``, ``abc...xyz0123``):
    an alphabet written out, in any context. ``abcd1234abcd1234`` (runs of
    four) and ``1234567890abcdef`` (a lone ``0``) are not."""
    folded = value.lower()
    if len(folded) < 6:
        return False
    runs: list[int] = []
    count = 1
    for a, b in zip(folded, folded[1:], strict=False):
        if ord(b) - ord(a) == 1:
            count += 1
            continue
        runs.append(count)
        count = 1
    runs.append(count)
    return min(runs) >= 4 and max(runs) >= 6


def is_placeholder_word(value: str) -> bool:
    """A documentation word (``fake``, ``example``, ``changeme``...) and little else
    (``somefakekey``, ``your_api_key_here``); counting and keyboard runs aside,
    which are weak passwords as often as placeholders."""
    if not _PLACEHOLDER_WORD.search(value):
        return False
    rest = _PLACEHOLDER_WORD.sub("", value)
    return len(rest) < _RANDOM_REST or _entropy(rest) < 3.5


def is_counting(value: str) -> bool:
    """One run of 6+ characters counting up, or two of 4+ (``xoxp-1234-1234-...``)."""
    runs = _counting_runs(value.lower())
    return any(n >= 6 for n in runs) or len(runs) >= 2


def counts_in_short(value: str) -> bool:
    """Two runs of 3+ counting up in a value under 20 characters (``AbCeFG123``):
    in a short value they almost never happen by chance, in a made-up one often."""
    count, runs = 1, 0
    for a, b in zip(value.lower(), value.lower()[1:], strict=False):
        if ord(b) - ord(a) == 1:
            count += 1
            continue
        runs += count >= 3
        count = 1
    runs += count >= 3
    return len(value) < 20 and runs >= 2


def is_filler(value: str) -> bool:
    """A run of x, X, * or 0 stands where the secret would be (``AKIAXXXXXXXXXXXXXXXX``)."""
    return bool(_PLACEHOLDER_RUN.search(value))


def body_ok(body: str, min_entropy: float) -> bool:
    """The random part is random enough and not a placeholder."""
    return _entropy(body) >= min_entropy and not is_placeholder(body)
