"""Secret test sets read from other projects' sources at benchmark time.

Nothing here is ragseal's: these are the examples gitleaks, trufflehog and
detect-secrets write to test their own rules, read from a git directory
(``fetch``-style bare snapshot or a clone) at a pinned commit, so that no
copy of them lives in this repository (trufflehog's are AGPL-3.0) and the
sets can be rebuilt by anyone with the same commits
(``benchmarks/data/secrets/PROVENANCE.md``).

- **gitleaks** (MIT): ``cmd/generate/config/rules/*.go`` builds each rule's
  true positives (``tps``) and false positives (``fps``) in Go: string
  literals, ``secrets.NewSecret(regex)`` (a random string matching the
  regex) and ``utils.GenerateSampleSecrets(id, secret)`` (the secret in ~30
  config and source layouts). :func:`gitleaks_cases` evaluates that small
  subset of Go (literals, ``+``, ``[]string{...}``, ``append``,
  ``fmt.Sprintf``, the ``utils`` helpers, local variables) with a seeded
  generator; statements it cannot evaluate are skipped and counted.
- **trufflehog** (AGPL-3.0, read, never copied): the ``Test*_Pattern``
  tables of ``pkg/detectors/*/*_test.go``: ``input`` (a literal, a
  ``const``, or ``fmt.Sprintf`` of them) and ``want`` (empty: a negative).
- **detect-secrets** (Apache-2.0): the string cases of ``tests/plugins/*_test.py``
  parametrisations, with their expected boolean (``True`` = a secret).

Each case carries ``group`` (rule, detector or plugin name): the held-out
split is by a hash of the group, so a whole rule is either tuned on or not.
"""

from __future__ import annotations

import ast
import hashlib
import random
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

__all__ = ["Case", "detect_secrets_cases", "gitleaks_cases", "held_out", "trufflehog_cases"]


@dataclass(frozen=True)
class Case:
    """One text; ``secrets``: substrings that are secrets (empty: a negative)."""

    source: str
    group: str
    text: str
    positive: bool
    secrets: tuple[str, ...] = field(default=())


def held_out(group: str) -> bool:
    """One group in four is held out (never looked at while tuning)."""
    return hashlib.sha256(group.encode()).digest()[0] % 4 == 0


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True,
                          capture_output=True, text=True).stdout


def _files(git_dir: Path, commit: str, folder: str, suffix: str) -> list[str]:
    names = _git(git_dir, "ls-tree", "-r", "--name-only", commit, folder).splitlines()
    return [n for n in names if n.endswith(suffix)]


# -- a regex -> random string generator (sre parse tree) --------------------

_WORD = [chr(c) for c in range(48, 58)] + [chr(c) for c in range(65, 91)] + ["_"] + [
    chr(c) for c in range(97, 123)]
_DIGIT = [chr(c) for c in range(48, 58)]
_SPACE = [" "]


def _category(cat: object) -> list[str]:
    name = str(cat)
    if "DIGIT" in name:
        return _DIGIT if "NOT" not in name else list("abcXYZ")
    if "WORD" in name:
        return _WORD if "NOT" not in name else list("-.")
    return _SPACE if "NOT" not in name else list("a")


def _chars(items: list[tuple[object, object]]) -> list[str]:
    out: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            out.append(chr(arg))  # type: ignore[arg-type]
        elif name == "RANGE":
            lo, hi = arg  # type: ignore[misc]
            out += [chr(c) for c in range(lo, hi + 1)]
        elif name == "CATEGORY":
            out += _category(arg)
    if negate:
        return [c for c in _WORD if c not in out] or ["x"]
    return out or ["x"]


def _gen(tree: object, rng: random.Random) -> str:
    parts: list[str] = []
    for op, arg in tree:  # type: ignore[attr-defined]
        name = str(op)
        if name == "LITERAL":
            parts.append(chr(arg))
        elif name == "NOT_LITERAL":
            parts.append("x" if arg != ord("x") else "y")
        elif name == "IN":
            parts.append(rng.choice(_chars(arg)))
        elif name == "ANY":
            parts.append(rng.choice(_WORD))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            hi = min(hi, lo + 8) if hi > 1_000 else hi
            parts += [_gen(sub, rng) for _ in range(rng.randint(lo, hi))]
        elif name == "SUBPATTERN":
            parts.append(_gen(arg[-1], rng))
        elif name == "BRANCH":
            parts.append(_gen(rng.choice(arg[1]), rng))
        elif name == "CATEGORY":
            parts.append(rng.choice(_category(arg)))
        elif name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF"):
            continue
    return "".join(parts)


def random_match(pattern: str, rng: random.Random) -> str:
    """A random string matching ``pattern`` (Go syntax close enough to Python's)."""
    pattern = pattern.replace(r"\z", "").replace("(?-i:", "(?:")
    return _gen(sre_parse.parse(pattern), rng)


# -- a tiny evaluator for the Go gitleaks writes its examples in ------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>//[^\n]*|/\*.*?\*/)|(?P<raw>`[^`]*`)"""
    r"""|(?P<str>"(?:\\.|[^"\\\n])*")|(?P<rune>'(?:\\.|[^'\\\n])*')"""
    r"""|(?P<ident>[A-Za-z_][\w.]*)|(?P<num>\d+)|(?P<op>\.\.\.|:=|[-+*/%=<>!&|^:;,(){}\[\]])""",
    re.DOTALL,
)


def _tokens(source: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(source):
        kind = m.lastgroup or ""
        if kind in ("ws", "comment"):
            continue
        out.append((kind, m.group()))
    return out


def _go_string(token: tuple[str, str]) -> str:
    kind, value = token
    if kind == "raw":
        return value[1:-1]
    return str(ast.literal_eval(value))  # Go's escapes are a subset of Python's here


class _Unsupported(Exception):
    pass


def _sample_secrets(identifier: str, secret: str) -> list[str]:
    """``utils.GenerateSampleSecrets`` (gitleaks' layouts, its generate.go)."""
    templates = [
        '{i}Token="{s}"', '{i}Token = "{s}"', "{i}Token={s}", "{i}Token = {s}",
        '{\n    "{i}_token": "{s}"\n}', '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
        "<{i}Token>\n    {s}\n</{i}Token>", "{i}_token: {s}", "{i}_token: '{s}'",
        '{i}_token: "{s}"', 'string {i}Token = "{s}";', 'var {i}Token string = "{s}"',
        '{i}Token := "{s}"', "{i}Token := `{s}`", 'String {i}Token = "{s}";',
        'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'", '{i}Token = "{s}"',
        'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"',
        '{i}_TOKEN = "{s}"', '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"',
        '{i}_TOKEN :::= "{s}"', '{i}_TOKEN ?= "{s}"',
    ]
    return [t.replace("{i}", identifier).replace("{I}", identifier.upper())
            .replace("{s}", secret) for t in templates]


_HELPERS = {
    "utils.Numeric": r"[0-9]{%s}", "utils.Hex": r"[a-f0-9]{%s}",
    "utils.AlphaNumeric": r"[a-z0-9]{%s}", "utils.AlphaNumericExtendedShort": r"[a-z0-9_-]{%s}",
    "utils.AlphaNumericExtended": r"[a-z0-9=_\-]{%s}",
    "utils.AlphaNumericExtendedLong": r"[a-z0-9\/=_\+\-]{%s}",
}


class _GoEval:
    def __init__(self, tokens: list[tuple[str, str]], rng: random.Random) -> None:
        self.t = tokens
        self.i = 0
        self.rng = rng
        self.env: dict[str, object] = {}
        # Which strings NewSecret produced: the gold secret inside a sample.
        self.made: list[str] = []

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.t[j] if j < len(self.t) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise _Unsupported(f"expected {value}, got {tok[1]}")
        self.i += 1
        return tok

    def expr(self) -> object:
        left = self.primary()
        while self.peek()[1] == "+":
            self.take()
            right = self.primary()
            if not isinstance(left, str) or not isinstance(right, str):
                raise _Unsupported("+ on non-strings")
            left = left + right
        return left

    def args(self) -> list[object]:
        self.take("(")
        out: list[object] = []
        while self.peek()[1] != ")":
            value = self.expr()
            if self.peek()[1] == "...":
                self.take()
                if not isinstance(value, list):
                    raise _Unsupported("spread")
                out += value
            else:
                out.append(value)
            if self.peek()[1] == ",":
                self.take()
        self.take(")")
        return out

    def primary(self) -> object:
        kind, value = self.peek()
        if kind in ("raw", "str"):
            self.take()
            return _go_string((kind, value))
        if kind == "num":
            self.take()
            return value
        if value == "[":
            self.take("[")
            self.take("]")
            self.take("string")
            return self.composite()
        if kind == "ident":
            self.take()
            if self.peek()[1] == "(":
                return self.call(value, self.args())
            if value in self.env:
                return self.env[value]
            raise _Unsupported(f"unknown name {value}")
        raise _Unsupported(f"token {value}")

    def composite(self) -> list[object]:
        self.take("{")
        items: list[object] = []
        while self.peek()[1] != "}":
            items.append(self.expr())
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return items

    def call(self, name: str, args: list[object]) -> object:
        if name == "secrets.NewSecret":
            made = random_match(str(args[0]), self.rng)
            self.made.append(made)
            return made
        if name in _HELPERS:
            return _HELPERS[name] % args[0]
        if name == "utils.Hex8_4_4_4_12":
            return r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        if name == "utils.GenerateSampleSecrets":
            return _sample_secrets(str(args[0]), str(args[1]))
        if name == "utils.GenerateSampleSecret":
            return f'{args[0]}_api_token = "{args[1]}"'
        if name == "append":
            head = args[0]
            if not isinstance(head, list):
                raise _Unsupported("append")
            return head + args[1:]
        if name == "fmt.Sprintf":
            fmt = str(args[0]).replace("%%", "\0")
            for a in args[1:]:
                fmt = re.sub(r"%[sdvq]", lambda _m, a=a: str(a), fmt, count=1)
            return fmt.replace("\0", "%")
        if name == "strings.Repeat":
            return str(args[0]) * int(str(args[1]))
        raise _Unsupported(f"call {name}")


def gitleaks_cases(git_dir: Path, commit: str, seed: int = 16) -> tuple[list[Case], int]:
    """(cases, statements skipped) from gitleaks' rule definitions."""
    cases: list[Case] = []
    skipped = 0
    for path in _files(git_dir, commit, "cmd/generate/config/rules", ".go"):
        if path.endswith("_test.go"):
            continue
        source = _git(git_dir, "show", f"{commit}:{path}")
        tokens = _tokens(source)
        rng = random.Random(f"{seed}:{path}")
        ev = _GoEval(tokens, rng)
        rule = Path(path).stem
        while ev.i < len(tokens):
            kind, value = ev.peek()
            if value == "func":
                ev.env = {}
                ev.take()
                continue
            if value == "RuleID" and ev.peek(1)[1] == ":":
                ev.i += 2
                if ev.peek()[0] == "str":
                    rule = _go_string(ev.take())
                continue
            if kind == "ident" and ev.peek(1)[1] in (":=", "="):
                start = ev.i
                ev.i += 2
                ev.made = []
                try:
                    result = ev.expr()
                except (_Unsupported, ValueError, SyntaxError, re.error, IndexError,
                        TypeError):
                    ev.i = start + 1
                    if value in ("tps", "fps"):
                        skipped += 1
                    continue
                if value in ("tps", "fps"):
                    old = ev.env.get(value)
                    made = list(ev.env.get(value + "#made", []))  # type: ignore[call-overload]
                    ev.env[value + "#made"] = made + ev.made
                    if isinstance(old, list) and isinstance(result, list) and \
                            result[: len(old)] == old:
                        pass
                ev.env[value] = result
                continue
            if value in ("utils.Validate", "utils.ValidateWithPaths"):
                ev.take()
                try:
                    names = [ev.take()[1] for _ in range(6)]
                except IndexError:
                    break
                tps = ev.env.get(names[3]) if names[3] != "nil" else None
                fps = ev.env.get(names[5]) if names[5] != "nil" else None
                made = [str(m) for m in ev.env.get("tps#made", [])]  # type: ignore[attr-defined]
                for text in tps if isinstance(tps, list) else []:
                    if isinstance(text, str):
                        gold = tuple(m for m in made if m and m in text)
                        cases.append(Case("gitleaks", rule, text, True, gold[:1]))
                for text in fps if isinstance(fps, list) else []:
                    if isinstance(text, str):
                        cases.append(Case("gitleaks", rule, text, False))
                continue
            ev.i += 1
    return cases, skipped


# -- trufflehog's pattern tests ---------------------------------------------

_CONST = re.compile(r'^\s*(\w+)\s*=\s*(`[^`]*`|"(?:\\.|[^"\\\n])*")', re.MULTILINE)


def trufflehog_cases(git_dir: Path, commit: str) -> list[Case]:
    """Inputs of the ``Test*_Pattern`` tables: ``want`` non-empty = positive."""
    cases: list[Case] = []
    for path in _files(git_dir, commit, "pkg/detectors", "_test.go"):
        if "integration" in path:
            continue
        source = _git(git_dir, "show", f"{commit}:{path}")
        if "_Pattern(" not in source:
            continue
        env: dict[str, object] = {}
        for m in _CONST.finditer(source):
            try:
                env[m.group(1)] = _go_string(("raw" if m.group(2)[0] == "`" else "str",
                                              m.group(2)))
            except (ValueError, SyntaxError):
                continue
        group = path.split("/")[2] if path.count("/") >= 3 else Path(path).stem
        body = source[source.find("_Pattern("):]
        for m in re.finditer(r"input:\s*", body):
            ev = _GoEval(_tokens(body[m.end(): m.end() + 4000]), random.Random(0))
            ev.env = dict(env)
            try:
                text = ev.expr()
            except (_Unsupported, ValueError, SyntaxError, IndexError, TypeError):
                continue
            if not isinstance(text, str):
                continue
            rest = body[m.end():]
            want_at = re.search(r"want:\s*", rest)
            next_input = rest.find("input:")
            if want_at is None or (0 <= next_input < want_at.start()):
                continue
            wev = _GoEval(_tokens(rest[want_at.end(): want_at.end() + 4000]), random.Random(0))
            wev.env = dict(env)
            try:
                want = wev.expr() if not rest[want_at.end():].startswith("nil") else []
            except (_Unsupported, ValueError, SyntaxError, IndexError, TypeError):
                continue
            if not isinstance(want, list):
                continue
            gold = tuple(str(w) for w in want if isinstance(w, str) and str(w) in text)
            cases.append(Case("trufflehog", group, text, bool(want), gold))
    return cases


# -- detect-secrets' plugin tests -------------------------------------------


def _module_constants(tree: ast.Module) -> dict[str, object]:
    """Upper-case module constants (string literals and ``.format`` of them)."""
    import base64

    ns: dict[str, object] = {"base64": base64, "randint": lambda a, b: a, "__builtins__": {
        "str": str, "bytes": bytes, "len": len, "range": range, "list": list, "tuple": tuple}}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "parse_test_cases":
            exec(compile(ast.Module([node], []), "<cases>", "exec"), ns)  # noqa: S102
        if not isinstance(node, ast.Assign) or not all(
                isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
            continue
        try:
            exec(compile(ast.Module([node], []), "<cases>", "exec"), ns)  # noqa: S102
        except Exception:  # noqa: BLE001 - a constant we cannot rebuild: skipped
            continue
    return ns


def detect_secrets_cases(git_dir: Path, commit: str) -> list[Case]:
    """Rows of ``pytest.mark.parametrize`` in the plugin tests: a line and whether
    the plugin must flag it (``should_flag``/``expected_result`` or, for the
    keyword plugin, ``expected_secret`` not None).

    The test modules' upper-case string constants and the keyword test's
    ``parse_test_cases`` are evaluated (string formatting only) to rebuild rows.
    """
    cases: list[Case] = []
    for path in _files(git_dir, commit, "tests/plugins", "_test.py"):
        tree = ast.parse(_git(git_dir, "show", f"{commit}:{path}"))
        ns = _module_constants(tree)
        group = Path(path).stem.removesuffix("_test")
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "parametrize"
                    and len(node.args) >= 2):
                continue
            names = node.args[0]
            if not isinstance(names, ast.Constant) or not isinstance(names.value, str):
                continue
            fields = [n.strip() for n in names.value.split(",")]
            flag_name = next((f for f in ("should_flag", "expected_result", "expected_secret")
                              if f in fields), None)
            text_field = next((i for i, f in enumerate(fields) if f in (
                "line", "payload", "token", "secret", "file_content")), None)
            if flag_name is None or text_field is None:
                continue
            flag = fields.index(flag_name)
            try:
                rows = list(eval(compile(ast.Expression(node.args[1]), "<cases>", "eval"), ns))  # noqa: S307
            except Exception:  # noqa: BLE001
                continue
            for row in rows:
                if not isinstance(row, tuple) or len(row) != len(fields):
                    continue
                text, expected = row[text_field], row[flag]
                if flag_name == "expected_secret":
                    expected = expected is not None
                if isinstance(text, str) and isinstance(expected, bool):
                    cases.append(Case("detect-secrets", group, text, expected))
    return cases
