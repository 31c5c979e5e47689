"""Injection detection: ragseal's scorer versus a naive keyword list, side by side.

    python benchmarks/injection.py          # the reported test sets (do not tune here)
    python benchmarks/injection.py --dev    # development data (tune here only)

Test sets (reported): BIPIA's derived test chunks (200 clean contexts, 600
poisoned copies; ``bipia_test_chunks_labeled.jsonl``) and the 55 indirect
cases of CyberSecEval's prompt-injection set (attacks only; the false-positive
rate comes from BIPIA's clean chunks), and ``llm-guard/resumes.pdf`` through
the real loader and chunker (its white-text injection must be caught).

Development data (the weights and patterns were set on these only): BIPIA's
*train* split rebuilt with the same construction as the derived test file
(email and code contexts, train attack strings, which are other attack
categories than the test ones), CyberSecEval's 196 *direct* cases, the same
196 inserted into BIPIA train contexts (an indirect-style set made of
development data), the 35 Giskard prompts, llm-guard's 60 prompt-injection
cases and PINT's public example file; clean: 428 documents and presidio's
2,109 synthetic sentences.

A chunk is predicted an injection when its score reaches the default
policy's ``injection.flag_at``. The baseline flags a text that contains any
phrase of a keyword list (the classic "ignore previous instructions" family).
Speed: chars/s of each detector over every text of the run, same process.

``--per-chunk`` also scores the texts the way ingest does: each text
classified, masked and cut by the ingest chunker, the rules on each chunk's
original text; a text counts as flagged when any of its chunks is (the
"rules/ch" row). The learned head once measured here was dropped
(docs/INJECTION.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragseal.classification import default_policy, ensure_offline, score_injection  # noqa: E402

ensure_offline()

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

KEYWORDS = (
    "ignore previous instructions", "ignore all previous", "ignore the above",
    "disregard previous", "disregard all previous", "forget previous instructions",
    "forget all previous", "ignore your instructions", "new instructions",
    "system prompt", "you are now", "developer mode", "jailbreak",
)


def baseline(text: str) -> bool:
    low = " ".join(text.lower().split())
    return any(k in low for k in KEYWORDS)


@dataclass(frozen=True)
class Case:
    id: str
    group: str
    label: int
    text: str


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    misses: dict[str, int] = field(default_factory=dict)

    def add(self, case: Case, predicted: bool) -> None:
        if case.label and predicted:
            self.tp += 1
        elif case.label:
            self.fn += 1
            self.misses[case.group] = self.misses.get(case.group, 0) + 1
        elif predicted:
            self.fp += 1
            self.misses[case.group] = self.misses.get(case.group, 0) + 1
        else:
            self.tn += 1

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else float("nan")


# -- data -------------------------------------------------------------------
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def _bipia_rebuilt(split: str) -> list[Case]:
    """The construction of ``bipia/derived/build_bipia_chunks.py`` (seed 2023,
    each context clean and with one attack at start / middle / end)."""
    root = DATA / "bipia" / "benchmark"

    def flat(path: Path) -> list[tuple[str, str]]:
        d = json.loads(path.read_text(encoding="utf-8"))
        return [(k, s) for k in d for s in d[k]]

    text_attacks = flat(root / f"text_attack_{split}.json")
    code_attacks = flat(root / f"code_attack_{split}.json")
    cases: list[Case] = []
    ti = ci = 0
    for task in ("email", "table", "code"):
        f = root / task / f"{split}.jsonl"
        if not f.exists():
            continue
        for j, line in enumerate(f.read_text(encoding="utf-8").splitlines()):
            ctx = json.loads(line)["context"]
            if isinstance(ctx, list):
                ctx = "\n".join(ctx)
            cases.append(Case(f"{task}-{j}-clean", f"bipia-{task}-clean", 0, ctx))
            for pos in ("start", "middle", "end"):
                if task == "code":
                    cat, atk = code_attacks[ci % len(code_attacks)]
                    ci += 1
                else:
                    cat, atk = text_attacks[ti % len(text_attacks)]
                    ti += 1
                if pos == "start":
                    text = f"{atk}\n{ctx}"
                elif pos == "end":
                    text = f"{ctx}\n{atk}"
                else:
                    rng = random.Random(f"2023-{task}-{j}-{pos}")
                    starts = [0] + [m.end() for m in _SENT.finditer(ctx)]
                    s = rng.choice(starts)
                    text = "\n".join([ctx[:s], atk, ctx[s:]])
                cases.append(Case(f"{task}-{j}-{pos}", f"bipia-{task}:{cat}", 1, text))
    return cases


def _bipia_test() -> list[Case]:
    path = DATA / "bipia" / "derived" / "bipia_test_chunks_labeled.jsonl"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        group = f"bipia-{r['task']}-clean" if not r["label"] else \
            f"bipia-{r['task']}:{r['attack_category']}"
        out.append(Case(r["id"], group, int(r["label"]), r["text"]))
    return out


def _document_of(user_input: str) -> str:
    """CyberSecEval's indirect cases are '<request>: <content>'; score the
    content a RAG store would hold, not the user's own request."""
    head, sep, rest = user_input.partition(":")
    return rest.strip() if sep and len(head) <= 200 and rest.strip() else user_input


def _cyberseceval(kind: str) -> list[Case]:
    raw = json.loads((DATA / "cyberseceval-prompt-injection" / "prompt_injection.json")
                     .read_text(encoding="utf-8"))
    out = []
    for x in raw:
        if x["injection_type"] != kind:
            continue
        text = _document_of(x["user_input"]) if kind == "indirect" else x["user_input"]
        out.append(Case(f"cse-{x['prompt_id']}", f"cse-{kind}:{x['injection_variant']}", 1, text))
    return out


def _giskard() -> list[Case]:
    import csv

    with (DATA / "giskard-prompt-injections" / "prompt_injections.csv").open(encoding="utf-8") as fh:
        return [Case(f"giskard-{r['index']}", f"giskard:{r['group']}", 1, r["prompt"])
                for r in csv.DictReader(fh)]


def _llm_guard() -> list[Case]:
    out = []
    path = DATA / "llm-guard" / "prompt_injection_cases.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if isinstance(r["prompt"], str):
            label = 0 if r["expected_valid"] else 1
            out.append(Case(f"llmguard-{r['case']}", f"llm-guard:{label}", label, r["prompt"]))
    return out


def _pint_example() -> list[Case]:
    import yaml

    rows = yaml.safe_load((DATA / "pint-benchmark-public" / "example-dataset.yaml")
                          .read_text(encoding="utf-8"))
    return [Case(f"pint-{i}", f"pint:{r['category']}", int(bool(r["label"])), str(r["text"]))
            for i, r in enumerate(rows)]


def _clean_documents() -> list[Case]:
    """Clean document text for the false-positive rate during development:
    the repository's sample corpus, 400 SciFact abstracts, pebblo's topic
    snippets and the text of unstructured's example documents."""
    import csv

    root = Path(__file__).resolve().parents[1] / "samples" / "corpus"
    out = [Case(f"sample-{p.name}", "samples", 0, p.read_text(encoding="utf-8"))
           for p in sorted(root.rglob("*")) if p.suffix in (".txt", ".md", ".html")]
    lines = (DATA / "beir-scifact" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines[:400]:
        r = json.loads(line)
        out.append(Case(f"scifact-{r['_id']}", "scifact", 0, f"{r['title']}\n{r['text']}"))
    with (DATA / "pebblo" / "topic_data.csv").open(encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            if row and len(row[0]) > 40:
                out.append(Case(f"pebblo-{i}", "pebblo-topics", 0, row[0]))
    for p in sorted((DATA / "unstructured-example-docs").glob("*")):
        if p.suffix in (".txt", ".md", ".html", ".eml"):
            out.append(Case(f"unstructured-{p.name}", "unstructured-docs", 0,
                            p.read_text(encoding="utf-8", errors="replace")))
    return out


def _presidio_sentences() -> list[Case]:
    """presidio-research's 2,109 synthetic ``generated_large`` sentences
    (names, addresses, chat lines, some foreign place names): clean text
    for the false-positive rate of the sentence-level signals."""
    rows = json.loads((DATA / "presidio-research" / "generated_large.json")
                      .read_text(encoding="utf-8"))
    return [Case(f"presidio-{i}", "presidio-sentences", 0, r["full_text"])
            for i, r in enumerate(rows)]


def _direct_in_contexts(direct: list[Case], contexts: list[Case]) -> list[Case]:
    """Each CyberSecEval *direct* case inserted into a clean BIPIA *train*
    context (e-mail or code) at a sentence boundary, like BIPIA's own
    construction: an indirect-style development set built from development
    data only (the 55 indirect cases are never used)."""
    out = []
    for k, case in enumerate(direct):
        ctx = contexts[k % len(contexts)].text
        rng = random.Random(f"2026-direct-{k}")  # noqa: S311 - a fixed layout, not a secret
        starts = [0] + [m.end() for m in _SENT.finditer(ctx)]
        s = rng.choice(starts)
        group = case.group.replace("cse-direct:", "cse-direct-in-ctx:")
        out.append(Case(f"{case.id}-in-ctx", group, 1, "\n".join([ctx[:s], case.text, ctx[s:]])))
    return out


def dev_sets() -> dict[str, list[Case]]:
    bipia_train = _bipia_rebuilt("train")
    direct = _cyberseceval("direct")
    return {
        "clean documents": _clean_documents(),
        "presidio sentences": _presidio_sentences(),
        "bipia-train": bipia_train,
        "cyberseceval-direct": direct,
        "cyberseceval-direct in bipia-train contexts":
            _direct_in_contexts(direct, [c for c in bipia_train if not c.label]),
        "giskard": _giskard(),
        "llm-guard": _llm_guard(),
        "pint-example": _pint_example(),
    }


def test_sets() -> dict[str, list[Case]]:
    bipia = _bipia_test()
    clean = [c for c in bipia if not c.label]
    return {
        "bipia-test": bipia,
        "cyberseceval-indirect + bipia clean": _cyberseceval("indirect") + clean,
    }


# -- ingest view ------------------------------------------------------------
@dataclass(frozen=True)
class IngestChunk:
    """One chunk as ingest makes it: the original text (what the rules score)
    and the masked text (what the embedder reads)."""

    original: str
    masked: str


def ingest_chunks(texts: list[str]) -> list[list[IngestChunk]]:
    """Each text as ingest cuts it: classified with the default policy, fully
    masked (pseudonyms under a fixed benchmark key), chunked on the masked
    text, each chunk mapped back to its original span (ingest/_pipeline.py)."""
    from ragseal.classification import Classifier, Pseudonymizer, mask
    from ragseal.ingest import Chunker

    policy = default_policy()
    classifier, chunker = Classifier(policy), Chunker()
    pseudonyms = Pseudonymizer(b"ragseal-injection-benchmark-key!")
    out: list[list[IngestChunk]] = []
    for text, result in zip(texts, classifier.classify_many(texts), strict=True):
        masked = mask(text, result.findings, policy, pseudonyms, "bench")
        chunks = []
        for s, e in chunker.split(masked.text):
            if masked.text[s:e].strip():
                o_s, o_e = masked.to_original(s), masked.to_original(e, end=True)
                chunks.append(IngestChunk(text[o_s:o_e], masked.text[s:e]))
        out.append(chunks)
    return out


# -- run --------------------------------------------------------------------
def run(cases: Iterable[Case], detect: Callable[[str], bool]) -> Confusion:
    c = Confusion()
    for case in cases:
        c.add(case, detect(case.text))
    return c


def run_ids(cases: Iterable[Case], predict: Callable[[Case], bool]) -> Confusion:
    c = Confusion()
    for case in cases:
        c.add(case, predict(case))
    return c


def _at_least(scores: dict[str, float], at: float) -> Callable[[Case], bool]:
    return lambda case: scores[case.id] >= at


def _speed(texts: list[str], fn: Callable[[str], object], rounds: int = 3) -> float:
    chars = sum(len(t) for t in texts)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - started)
    return chars / best


def _row(name: str, c: Confusion) -> str:
    return (f"  {name:<9} TP {c.tp:>4}  FN {c.fn:>4}  FP {c.fp:>4}  TN {c.tn:>4}  "
            f"recall {c.recall:.3f}  FPR {c.fpr:.3f}")


def resumes_pdf() -> list[str]:
    """resumes.pdf through the real loader and chunker: per chunk, the score
    and signals (the hidden white text must be caught at ingest)."""
    from ragseal.ingest import Chunker, load_document

    loaded = load_document(DATA / "llm-guard" / "resumes.pdf")
    chunker = Chunker()
    flag_at = default_policy().injection.flag_at
    lines = [f"  hidden spans marked by the loader: {len(loaded.hidden)}"]
    for i, (s, e) in enumerate(chunker.split(loaded.text)):
        hidden = loaded.hidden_in(s, e)
        r = score_injection(loaded.text[s:e], hidden=hidden)
        mark = "HELD   " if r.score >= (default_policy().injection.quarantine_at or 1.0) else \
            "FLAGGED" if r.score >= flag_at else "       "
        lines.append(f"  chunk {i:>2} {mark} score {r.score:.3f} {','.join(r.signals) or '-'}")
    return lines


def chunk_scores(cases: list[Case]) -> dict[str, float]:
    """Per case: the best rules score over its ingest chunks."""
    chunked = ingest_chunks([c.text for c in cases])
    return {case.id: max((score_injection(ch.original).score for ch in chunks), default=0.0)
            for case, chunks in zip(cases, chunked, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dev", action="store_true", help="development data (tune here only)")
    parser.add_argument("--misses", action="store_true", help="per-group errors")
    parser.add_argument("--per-chunk", action="store_true",
                        help="also score each text per ingest chunk (classifies and masks)")
    args = parser.parse_args()
    policy = default_policy()
    flag_at = policy.injection.flag_at

    quarantine_at = policy.injection.quarantine_at or 1.0

    def ours(text: str) -> bool:
        return score_injection(text).score >= flag_at

    def held(text: str) -> bool:
        return score_injection(text).score >= quarantine_at

    sets = dev_sets() if args.dev else test_sets()
    print(f"{'development' if args.dev else 'test'} sets; ragseal flags at score >= {flag_at}, "
          f"quarantines at >= {quarantine_at}")
    per_chunk: dict[str, float] | None = None
    if args.per_chunk:
        unique = list({c.id: c for cases in sets.values() for c in cases}.values())
        per_chunk = chunk_scores(unique)
    texts: list[str] = []
    for name, cases in sets.items():
        texts += [c.text for c in cases]
        pos, neg = sum(c.label for c in cases), sum(1 - c.label for c in cases)
        print(f"\n{name}: {pos} injected, {neg} clean")
        mine, base = run(cases, ours), run(cases, baseline)
        print(_row("ragseal", mine))
        print(_row("  held", run(cases, held)))
        print(_row("keywords", base))
        if per_chunk is not None:
            print(_row("rules/ch", run_ids(cases, _at_least(per_chunk, flag_at)))
                  + "   (rules per ingest chunk)")
        if args.misses:
            print("  ragseal errors by group:", json.dumps(dict(sorted(mine.misses.items()))))
    ours_cps, base_cps = _speed(texts, score_injection), _speed(texts, baseline)
    print(f"\nspeed over {len(texts)} texts, {sum(map(len, texts)):,} chars: "
          f"ragseal {ours_cps:,.0f} chars/s, keywords {base_cps:,.0f} chars/s "
          f"(ratio {ours_cps / base_cps:.3f})")
    if not args.dev:
        print("\nllm-guard/resumes.pdf (loader + chunker + scorer):")
        print("\n".join(resumes_pdf()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
