"""Cheap text statistics for the injection scorer (no model, no data file).

Two questions the regular expressions of :mod:`._families`
cannot answer alone:

- **Smuggled text** (:func:`smuggled`): is there a run of words that reads
  as English only once decoded (ROT13 or another Caesar shift, reversed,
  pig latin, leetspeak, Morse, variables concatenated)? An instruction
  hidden that way is meant for a model that can decode it, not for a human
  reader of the document.
- **Foreign request** (:func:`foreign_request`): in a chunk written in
  English, a sentence in another language or script that addresses the
  reader (a question, a second-person pronoun, a polite imperative).

Both rest on counts of English function words and of letters per script.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

__all__ = ["english_share", "foreign_request", "joined_strings", "smuggled"]

# English function words: frequent, short, and rare in other languages.
_EN = frozenset(
    "the a an of to in is are was were be been and or but not no what which who whom where when "
    "why how that this these those it its you your yours i me my we our us he she him her his they "
    "them their there here with from for on at by as if then than so do does did can could would "
    "should will shall may might must have has had am any all some each every about into over "
    "after before under again also just only very too more most other such own same".split()
)
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def english_share(text: str) -> tuple[int, int]:
    """(English function words, words) in ``text``."""
    words = _WORDS.findall(text.lower())
    return sum(w in _EN for w in words), len(words)


def _reads_english(text: str, *, min_words: int = 5) -> bool:
    """Decoded text that reads as English: several function words of two
    letters or more (a random shift makes "a", "i" easily, "the" rarely)."""
    words = _WORDS.findall(text.lower())
    hits = sum(len(w) > 1 and w in _EN for w in words)
    return len(words) >= min_words and hits >= 3 and hits / len(words) >= 0.3


_PLAIN_WORD = re.compile(r"^[\"'(‘“]?[A-Za-z]+[\"'),.?!:;’”]*$")


def _wordy(segment: str) -> bool:
    """Mostly plain alphabetic words (not markup, numbers, code or names)."""
    tokens = segment.split()
    plain = sum(bool(_PLAIN_WORD.match(t)) for t in tokens)
    return len(tokens) >= 5 and plain >= 0.85 * len(tokens)


# -- smuggled text ------------------------------------------------------------
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_SHIFTS = tuple(
    str.maketrans(_LOWER + _LOWER.upper(),
                  _LOWER[k:] + _LOWER[:k] + (_LOWER[k:] + _LOWER[:k]).upper())
    for k in range(26)
)
_LEET = str.maketrans("013457@$", "oieastas")
_LEET_WORD = re.compile(
    r"(?<![\w.])(?=[a-z@$]*[0134579@$])(?=[0-9@$]*[a-z])[a-z0-9@$]{4,}(?![\w.])", re.I
)
_LEET_VOCAB = frozenset(
    "ignore previous instructions instruction password passwords secret system prompt reveal "
    "disregard forget rules answer output print tell admin access token credentials bypass "
    "override hack steal delete user data".split()
)
_PIG = re.compile(r"\b[a-z]{2,}ay\b", re.I)
_PIG_REAL = frozenset(
    "away always today yesterday holiday holidays display essay array delay relay replay stay "
    "okay anyway someday sunday monday tuesday wednesday thursday friday saturday birthday "
    "midday payday runway highway subway doorway hallway gateway railway pathway castaway "
    "betray portray spray stray tray x-ray bay day days way ways say says may play pay lay ray "
    "hay gray grey clay pray".split()
)
# Segments to test: quoted strings, lines and sentences (bounded).
_QUOTED = re.compile(r"[\"'\u2018\u201c]([^\"'\u2019\u201d\n]{12,400})[\"'\u2019\u201d]")
_SEGMENT = re.compile(r"[^\n.!?;:]{12,400}")
_MORSE_RUN = re.compile(r"(?:[.\-]{1,7}[ ]+(?:/[ ]+)?){8,}[.\-]{1,7}")
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){16,}(?![0-9A-Fa-f])")
_BINARY_RUN = re.compile(r"(?<![01])(?:[01]{8}[ ]){8,}[01]{8}(?![01])")
_MORSE = {
    ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g",
    "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n",
    "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
}


def _morse(run: str) -> str:
    words = re.split(r"\s*/\s*|\s{3,}", run.strip())
    return " ".join("".join(_MORSE.get(c, "") for c in w.split()) for w in words)


def _candidates(text: str) -> list[str]:
    seen: list[str] = [m.group(1) for m in _QUOTED.finditer(text)]
    seen += [m.group(0) for m in _SEGMENT.finditer(text)]
    return seen


def _caesar_english(segment: str) -> bool:
    for k in range(1, 26):
        if _reads_english(segment.translate(_SHIFTS[k])):
            return True
    return False


_ATBASH = str.maketrans(_LOWER + _LOWER.upper(), _LOWER[::-1] + _LOWER[::-1].upper())
# Dots and dashes a word processor may have substituted.
_MORSE_FOLD = str.maketrans("\u00b7\u2022\u2219\u22c5\u2013\u2014\u2212\u2012_", "....-----")


def _base64_english(text: str) -> bool:
    for m in _B64_RUN.finditer(text):
        blob = m.group(0)
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if _reads_english(raw.decode("latin-1")):
            return True
    return False


def smuggled(text: str) -> bool:
    """A run of words that is not English as written but is once decoded."""
    if _base64_english(text):
        return True
    for m in _MORSE_RUN.finditer(text.translate(_MORSE_FOLD)):
        if _reads_english(_morse(m.group(0)), min_words=4):
            return True
    for m in _HEX_RUN.finditer(text):
        digits = re.sub(r"[^0-9A-Fa-f]", "", m.group(0))
        raw = bytes.fromhex(digits[: len(digits) // 2 * 2])
        if _reads_english(raw.decode("latin-1")):
            return True
    for m in _BINARY_RUN.finditer(text):
        raw = bytes(int(b, 2) for b in m.group(0).split())
        if _reads_english(raw.decode("latin-1")):
            return True
    leet = {w.lower().translate(_LEET) for w in _LEET_WORD.findall(text)}
    if len(leet & _LEET_VOCAB) >= 2:
        return True
    for segment in _candidates(text):
        hits, n = english_share(segment)
        if hits / max(n, 1) >= 0.15 or not _wordy(segment):
            continue  # already readable, or not a run of words
        if _reads_english(segment[::-1]) or _reads_english(segment.translate(_ATBASH)) or \
                _caesar_english(segment):
            return True
        pig = _PIG.findall(segment)
        if len(pig) >= 4 and len(pig) >= 0.6 * n and \
                sum(p.lower() not in _PIG_REAL for p in pig) >= 3:
            return True
    return False


# -- strings split and joined ("a = 'ign'; b = 'ore'; a + b") ----------------
_ASSIGN = re.compile(r"\b([A-Za-z_]\w{0,11})\s*=\s*[\"'\u201c]([^\"'\u201d\n]{1,200})[\"'\u201d]")
_CONCAT = re.compile(r"\b[A-Za-z_]\w{0,11}(?:\s*\+\s*[A-Za-z_]\w{0,11}){1,8}\b")
_PART = re.compile(
    r"\bpart\s*(\d)\s*(?:is|:|=)?\s*[\"'\u201c]([^\"'\u201d\n]{1,200})[\"'\u201d]", re.I
)


def joined_strings(text: str) -> list[str]:
    """Texts a reader is asked to assemble: variables holding quoted strings
    joined with ``+``, and "Part 1 ... Part 2" fragments (concatenated and
    interlaced)."""
    out: list[str] = []
    values = dict(_ASSIGN.findall(text))
    if len(values) >= 2:
        for m in _CONCAT.finditer(text):
            names = [n.strip() for n in m.group(0).split("+")]
            if all(n in values for n in names):
                out.append("".join(values[n] for n in names))
    parts = [v for _, v in sorted(_PART.findall(text))]
    if len(parts) >= 2:
        out.append("".join(parts))
        out.append(" ".join(parts))
        a, b = parts[0], parts[1]
        out.append("".join(x + y for x, y in zip(a, b, strict=False)) + a[len(b):] + b[len(a):])
    return out


# -- a foreign sentence addressed to the reader --------------------------------
_LATIN_LANGS: dict[str, frozenset[str]] = {
    "fr": frozenset("le la les des du un une est et vous tu votre vos ton ta tes je nous ne pas "
                    "que qui pour dans sur avec au aux ce cette mais est-ce comment quel quelle "
                    "dites répondez écrivez donnez ignorez oubliez veuillez".split()),
    "es": frozenset("el la los las de un una es y usted tú tu su sus yo nosotros no que qué para "
                    "en con por del al como cómo cuál dónde puedes puede dime dígame responde "
                    "responda escribe ignora olvida favor".split()),
    "de": frozenset("der die das den dem ein eine ist und sie du dein deine ihr ihre ich wir "
                    "nicht zu mit für auf von wie was wer bitte sagen schreiben antworten "
                    "ignoriere vergiss geben gib mir wer hat".split()),
    "it": frozenset("il lo la gli le un una è e tu voi lei tuo tua io noi non che per con di "
                    "del della dei delle come cosa quale quali sono più nell dimmi rispondi scrivi "
                    "ignora favore".split()),
    "pt": frozenset("o a os as um uma é e você tu seu sua eu nós não que para com do da em "
                    "como qual quem de diga responda escreva ignore favor".split()),
    "nl": frozenset("de het een is en je jij u uw jouw ik wij niet dat voor met van hoe wat "
                    "welke alsjeblieft schrijf antwoord negeer".split()),
    "id": frozenset("yang dan di ke dari ini itu anda kamu saya kami tidak untuk dengan "
                    "bagaimana apa siapa cara tolong katakan tuliskan jawab abaikan "
                    "adalah".split()),
}
# English function words that are not also function words of those languages
# ("a", "in", "no", "die", "an" are): a chunk that has many is English.
_EN_ONLY = _EN.difference(*_LATIN_LANGS.values())
# Second person, polite imperative or request words per language.
_ADDRESS_LATIN: dict[str, frozenset[str]] = {
    "fr": frozenset("vous tu votre vos ton ta tes dites répondez écrivez donnez ignorez oubliez "
                    "veuillez dis réponds écris donne ignore oublie".split()),
    "es": frozenset("usted tú tu dime dígame responde responda escribe escriba ignora ignore "
                    "olvida olvide dame deme favor".split()),
    "de": frozenset("sie du dein deine deinen ihr ihre ihren bitte sag sagen schreib schreiben "
                    "antworte antworten ignoriere ignorieren vergiss gib geben".split()),
    "it": frozenset("tu voi tuo tua tuoi dimmi rispondi scrivi ignora dimentica dammi "
                    "favore".split()),
    "pt": frozenset("você tu seu sua diga responda escreva ignore esqueça favor".split()),
    "nl": frozenset("je jij u uw jouw alsjeblieft schrijf antwoord negeer vergeet".split()),
    "id": frozenset("anda kamu tolong katakan tuliskan jawab abaikan lupakan berikan".split()),
}
_ADDRESS_OTHER = re.compile(
    "\u3042\u306a\u305f|\u304f\u3060\u3055\u3044|\u6559\u3048\u3066|\u4f60|\u60a8|\u8bf7|"
    "\u544a\u8bc9\u6211|\ub2f9\uc2e0|\ub108|\uc8fc\uc138\uc694|\uc54c\ub824|"
    r"\b(?:\u0432\u044b|\u0442\u044b|\u0432\u0430\u0448\w*|\u0442\u0432\u043e\w*|"
    r"\u043f\u043e\u0436\u0430\u043b\u0443\u0439\u0441\u0442\u0430|\u0441\u043a\u0430\u0436\w*|"
    r"\u043d\u0430\u043f\u0438\u0448\w*|\u043e\u0442\u0432\u0435\u0442\u044c\w*)\b|"
    "\u0623\u0646\u062a|\u0645\u0646 \u0641\u0636\u0644\u0643|\u0623\u062e\u0628\u0631\u0646\u064a|"
    "\u0627\u0643\u062a\u0628|"
    "\u0906\u092a|\u0924\u0941\u092e|\u0915\u0943\u092a\u092f\u093e|\u092c\u0924\u093e|"
    r"\b(?:\u03b5\u03c3\u03cd|\u03c3\u03b1\u03c2|\u03c3\u03bf\u03c5|"
    r"\u03c0\u03b1\u03c1\u03b1\u03ba\u03b1\u03bb\u03ce)\b|"
    "\u05d0\u05ea\u05d4|\u05d1\u05d1\u05e7\u05e9\u05d4|\u0e04\u0e38\u0e13|\u0e01\u0e23\u0e38\u0e13\u0e32",
    re.IGNORECASE,
)
_QUESTION_MARKS = ("?", "\uff1f", "\u061f")
# NFKC folds the Greek question mark (U+037E) onto ";".
_QUESTION_MARKS_OTHER = (*_QUESTION_MARKS, ";")
_SENTENCE = re.compile("[^\n.!?\u3002\uff01\uff1f\u061f]+[.!?\u3002\uff01\uff1f\u061f]?")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def _foreign_script(sentence: str) -> bool:
    """Most letters of ``sentence`` are outside the Latin script."""
    letters = [c for c in sentence if c.isalpha()]
    if len(letters) < 6:
        return False
    latin = sum(c.isascii() or _script(c) == "LATIN" for c in letters)
    return latin < 0.3 * len(letters)


def _latin_language(words: list[str], *, asks: bool) -> str | None:
    """The non-English Latin-script language of ``words``, if clearly one (a
    question with no English function word needs only two of its own)."""
    best, hits = None, 0
    for lang, vocab in _LATIN_LANGS.items():
        h = sum(w in vocab for w in words)
        if h > hits:
            best, hits = lang, h
    if best is None:
        return None
    vocab = _LATIN_LANGS[best]
    en = sum(w in _EN and w not in vocab for w in words)
    if (hits >= 3 and hits >= 2 * en + 2) or \
            (asks and en == 0 and hits >= 2 and hits >= 0.3 * len(words)):
        return best
    return None


def foreign_request(text: str) -> bool:
    """In English text, a sentence in another language or script that asks
    or tells the reader something."""
    words = _WORDS.findall(text.lower())
    hits = sum(w in _EN_ONLY for w in words)
    if len(words) < 12 or hits < 6 or hits < 0.1 * len(words):
        return False  # not an English chunk (code counts little): nothing is foreign to it
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if len(sentence) < 6:
            continue
        asks = sentence.endswith(_QUESTION_MARKS)
        if _foreign_script(sentence):
            if sentence.endswith(_QUESTION_MARKS_OTHER) or _ADDRESS_OTHER.search(sentence):
                return True
            continue
        words = _WORDS.findall(sentence.lower())
        if len(words) < 5:
            continue
        lang = _latin_language(words, asks=asks)
        if lang is not None and (asks or any(w in _ADDRESS_LATIN[lang] for w in words)):
            return True
    return False
