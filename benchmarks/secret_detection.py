"""Secret detection on other projects' test material: ragseal versus detect-secrets.

    python benchmarks/secret_detection.py                 # dev and held-out, both systems
    python benchmarks/secret_detection.py --misses 20     # show dev misses / false alarms

Sets (``benchmarks/_secret_sets.py``; sources, commits and licences in
``benchmarks/data/secrets/PROVENANCE.md``), read at run time from git
snapshots, never copied here:

- gitleaks' rule examples: positives (``tps``), recall; negatives (``fps``),
  share flagged;
- trufflehog's detector pattern tests: positives, recall; negatives, share flagged;
- detect-secrets' plugin tests (its public-IP plugin left out: an IP
  address is not a secret for ragseal): positives, recall; negatives, share flagged.

ragseal runs the shipped default policy through ``Classifier.classify_many``
and a text counts as flagged when it holds a finding of a secret type
(``AWS_ACCESS_KEY``, ``PRIVATE_KEY``, ``API_TOKEN``, ``PASSWORD``); where the
example names its secret (a generated gitleaks secret, a trufflehog
``want``), the finding must overlap it. The baseline is detect-secrets
1.5.0 with all its default plugins and filters, as ``detect-secrets scan``
reads a ``.txt`` file, in the same run. Every group (rule / detector / plugin) whose name hashes to the
held-out quarter is reported apart and was never looked at while tuning.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _secret_sets import (  # noqa: E402
    Case,
    detect_secrets_cases,
    gitleaks_cases,
    held_out,
    trufflehog_cases,
)

from ragseal.classification import (  # noqa: E402
    Classifier,
    default_policy,
    ensure_offline,
    parse_policy,
)  # noqa: E402

ensure_offline()

MIRROR = Path("/work/.mirror")
SOURCES = {
    # name: (git dir under --mirror, pinned commit)
    "gitleaks": ("gitleaks+gitleaks/repo", "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b"),
    "trufflehog": ("trufflesecurity+trufflehog/repo", "3ab759fef4bb5935d4fe9ac68b503d05346b8364"),
    "detect-secrets": ("Yelp+detect-secrets/repo", "5e141933554a0b74e7341841f318be21e895339c"),
}
SECRET_TYPES = frozenset({"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"})
NOT_SECRETS = frozenset({"ip_public"})  # detect-secrets plugins for things that are not secrets


def load(mirror: Path) -> list[Case]:
    cases: list[Case] = []
    for name, (folder, commit) in SOURCES.items():
        git_dir = mirror / folder
        if not git_dir.exists():
            print(f"[{name}] no snapshot at {git_dir}: skipped", file=sys.stderr)
            continue
        if name == "gitleaks":
            found, skipped = gitleaks_cases(git_dir, commit)
            print(f"[gitleaks] {skipped} tps/fps statements not evaluated", file=sys.stderr)
        elif name == "trufflehog":
            found = trufflehog_cases(git_dir, commit)
        else:
            found = [c for c in detect_secrets_cases(git_dir, commit)
                     if c.group not in NOT_SECRETS]
        cases += found
    return cases


Spans = list[tuple[int, int]]


def ragseal_spans(texts: Sequence[str], secrets_only: bool = False) -> list[Spans]:
    policy = default_policy()
    if secrets_only:  # quick loop while tuning: the secret recognizers alone
        doc = policy.to_json()
        entities = {k: v for k, v in doc["entities"].items()  # type: ignore[union-attr]
                    if k in SECRET_TYPES}
        policy = parse_policy({"levels": doc["levels"], "entities": entities})
    classifier = Classifier(policy)
    classifier.warm_up()
    out: list[Spans] = []
    for i in range(0, len(texts), 256):
        for c in classifier.classify_many(texts[i:i + 256]):
            out.append([(f.start, f.end) for f in c.findings if f.entity in SECRET_TYPES])
    return out


def detect_secrets_spans(texts: Sequence[str]) -> list[Spans]:
    """detect-secrets as ``detect-secrets scan`` runs on a text file: all default
    plugins with their entropy limits and default filters (``scan_line`` is its
    ad-hoc mode, which skips the limits and flags every word)."""
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    out: list[Spans] = []
    with default_settings():
        for text in texts:
            lines = text.split("\n")
            starts = [0]
            for line in lines[:-1]:
                starts.append(starts[-1] + len(line) + 1)
            spans: Spans = []
            numbered = list(enumerate(lines, 1))
            for secret in _process_line_based_plugins(numbered, filename="benchmark.txt"):
                line = lines[secret.line_number - 1]
                offset = starts[secret.line_number - 1]
                value = secret.secret_value or ""
                at = line.find(value) if value else -1
                spans.append((offset + at, offset + at + len(value)) if at >= 0
                             else (offset, offset + len(line)))
            out.append(spans)
    return out


def hit(case: Case, spans: Spans) -> bool:
    if not spans:
        return False
    if not case.positive or not case.secrets:
        return True
    for secret in case.secrets:
        at = case.text.find(secret)
        if any(s < at + len(secret) and at < e for s, e in spans):
            return True
    return False


def table(cases: list[Case], results: dict[str, list[Spans]]) -> None:
    systems = list(results)
    print(f"{'set':<34} {'n':>6} " + " ".join(f"{s:>15}" for s in systems))
    for source in SOURCES:
        for split in ("dev", "held-out"):
            rows = [(i, c) for i, c in enumerate(cases)
                    if c.source == source and held_out(c.group) == (split == "held-out")]
            for positive, label in ((True, "recall"), (False, "negatives flagged")):
                sel = [(i, c) for i, c in rows if c.positive == positive]
                if not sel:
                    continue
                cells = []
                for s in systems:
                    k = sum(hit(c, results[s][i]) for i, c in sel)
                    cells.append(f"{k / len(sel):7.3f} ({k:>5})")
                name = f"{source} {split} {label}"
                print(f"{name:<34} {len(sel):>6} " + " ".join(f"{x:>15}" for x in cells))


def misses(cases: list[Case], spans: list[Spans], limit: int) -> None:
    dev = [(c, s) for c, s in zip(cases, spans, strict=True) if not held_out(c.group)]
    missed = [c for c, s in dev if c.positive and not hit(c, s)]
    false = [c for c, s in dev if not c.positive and hit(c, s)]
    print(f"\nragseal dev misses ({len(missed)}), first {limit}:")
    for c in missed[:limit]:
        print(f"  [{c.source}:{c.group}] {c.text[:160]!r}")
    print(f"ragseal dev false alarms ({len(false)}), first {limit}:")
    for c in false[:limit]:
        print(f"  [{c.source}:{c.group}] {c.text[:160]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=MIRROR,
                        help="folder holding the git snapshots (owner+name/repo)")
    parser.add_argument("--misses", type=int, default=0, metavar="N")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--secrets-only", action="store_true",
                        help="policy of the secret types alone (quick, for tuning)")
    args = parser.parse_args()
    cases = load(args.mirror)
    texts = [c.text for c in cases]
    runners: dict[str, Callable[[Sequence[str]], list[Spans]]] = {
        "ragseal": lambda t: ragseal_spans(t, args.secrets_only)}
    if not args.no_baseline:
        runners["detect-secrets"] = detect_secrets_spans
    results: dict[str, list[Spans]] = {}
    for name, run in runners.items():
        load_before = os.getloadavg()[0]
        started = time.process_time()
        results[name] = run(texts)
        print(f"{name}: {len(texts)} texts in {time.process_time() - started:.1f} CPU-s "
              f"(load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}, shared machine)")
    print()
    table(cases, results)
    if args.misses:
        misses(cases, results["ragseal"], args.misses)


if __name__ == "__main__":
    main()
