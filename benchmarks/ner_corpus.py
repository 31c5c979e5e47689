"""A candidate NER against the stock one on ordinary prose: samples/corpus.

    python benchmarks/ner_corpus.py DIR          # counts per type, both models
    python benchmarks/ner_corpus.py DIR --show   # also every span only one model finds

DIR is a NER pipeline written by ``scripts/train_ner.py``. Reads every file
of ``samples/corpus`` as ``ragseal classify`` does and classifies it under
the default policy plus LOCATION, ORGANIZATION, NRP and DATE_TIME, once with
the stock NER (the baseline, same run) and once with DIR's. There is no gold
here: "only" counts are findings no same-type finding of the other model
overlaps, to be read by eye with ``--show``. The corpus is synthetic (no real
person), so printing its spans is fine; the training script never reads it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _ner_candidate import use_ner  # noqa: E402
from ragseal.classification import Classifier, default_policy, ensure_offline, parse_policy  # noqa: E402
from ragseal.ingest import load_document  # noqa: E402

ensure_offline()

EXTRA = {"LOCATION": "internal", "ORGANIZATION": "internal", "NRP": "confidential",
         "DATE_TIME": "internal"}
NER_TYPES = ("PERSON", *EXTRA)


def classifier() -> Classifier:
    doc = default_policy().to_json()
    entities = dict(doc["entities"])  # type: ignore[arg-type]
    for name, level in EXTRA.items():
        entities.setdefault(name, {"level": level, "mask": "redact"})
    out = Classifier(parse_policy({**doc, "entities": entities}))
    out.warm_up()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate", type=Path, help="NER pipeline folder (train_ner.py)")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    files = sorted(p for p in (ROOT / "samples" / "corpus").rglob("*")
                   if p.is_file() and p.name != "acl.yaml")
    texts = [load_document(p).text for p in files]
    found: dict[str, list[list[tuple[str, int, int]]]] = {}
    for model in ("stock", "tuned"):
        if model == "tuned":
            use_ner(args.candidate)
        results = classifier().classify_many(texts)
        found[model] = [[(f.entity, f.start, f.end) for f in r.findings if f.entity in NER_TYPES]
                        for r in results]
    print(f"{len(files)} files, {sum(len(t) for t in texts):,} chars; findings (occurrences) "
          "of each model, and those no finding of the same type of the other model overlaps")
    print(f"{'type':<14} {'stock':>6} {'tuned':>6} {'stock only':>11} {'tuned only':>11}")
    shown: list[str] = []
    for entity in NER_TYPES:
        counts = Counter[str]()
        for path, text, s, t in zip(files, texts, found["stock"], found["tuned"], strict=True):
            s_e = [(a, b) for e, a, b in s if e == entity]
            t_e = [(a, b) for e, a, b in t if e == entity]
            counts.update(stock=len(s_e), tuned=len(t_e))
            for label, mine, other in (("stock only", s_e, t_e), ("tuned only", t_e, s_e)):
                alone = [(a, b) for a, b in mine if not any(c < b and a < d for c, d in other)]
                counts[label] += len(alone)
                shown += [f"{path.relative_to(ROOT)}: {label} {entity} {text[a:b]!r}"
                          for a, b in alone]
        print(f"{entity:<14} {counts['stock']:>6} {counts['tuned']:>6} "
              f"{counts['stock only']:>11} {counts['tuned only']:>11}")
    if args.show:
        print("\n".join(shown))


if __name__ == "__main__":
    main()
