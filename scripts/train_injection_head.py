"""Train the learned injection head: a logistic regression on MiniLM chunk vectors.

    python scripts/train_injection_head.py              # train, print dev figures, write the head
    python scripts/train_injection_head.py --dry-run    # figures only

Development data ONLY (the sets of ``benchmarks/injection.py --dev``): BIPIA's
*train* split rebuilt like the derived test file, CyberSecEval's *direct*
cases, Giskard's prompts, llm-guard's prompt-injection cases, PINT's example
file and the clean documents (sample corpus, SciFact, pebblo, unstructured),
plus presidio-research's synthetic ``generated_large`` sentences as more clean
text (MIT; the PII-detection tuning set, no injection in it). The BIPIA test
chunks and CyberSecEval's *indirect* cases are never read here.

Every text goes the way ingest takes it (``bench.ingest_chunks``): classified,
masked, chunked; each chunk's masked text is embedded by the ingest embedder
(ONNX int8 by default, as ingest) and its original text scored by the rules.
A chunk is an attack when the text is one, except in BIPIA's poisoned
contexts, where only the chunks holding the inserted attack are (the rest is
the clean e-mail or code).

Split: 25% of the texts of each group are held out (fixed seed, by text, so
windows of one document never sit on both sides). SciFact's abstracts are
always held out: their licence (CC BY-NC) allows evaluation, not shipping
weights fitted on them, so they only check the false-positive rate. The model is fitted on the
rest (scikit-learn, used here only); the threshold is the lowest probability
at which at most 1% of the held-out clean windows fire, in each clean source
separately (BIPIA's clean e-mails and code, SciFact, presidio's sentences,
the other documents), so that one kind of text cannot hide behind another. The regularisation C
is picked from a small grid by the held-out recall of rules OR head (the
signal is combined with the rules at ingest), ties to the smaller C. The
shipped head is that fit (not refitted on everything: the threshold belongs
to it).

Writes ``classification/injection_head.json`` (384 weights, bias, threshold,
provenance) and prints its sha256 for ``classification/_injection_head.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import injection as bench  # noqa: E402
from ragseal.classification import default_policy, score_injection  # noqa: E402
from ragseal.ingest import Embedder  # noqa: E402

SEED = 2026
HELD_OUT = 0.25
MAX_CLEAN_FPR = 0.01
#: Text ids never fitted on (licence: evaluation only).
EVAL_ONLY = ("scifact-",)
OUT = ROOT / "classification" / "injection_head.json"


def _bipia_attacks() -> list[str]:
    root = bench.DATA / "bipia" / "benchmark"
    out: list[str] = []
    for name in ("text_attack_train.json", "code_attack_train.json"):
        d = json.loads((root / name).read_text(encoding="utf-8"))
        out += [s for k in d for s in d[k]]
    return out


Row = tuple[str, str, int, str, str]  # text id, group, label, original, masked


def _synthetic_clean() -> list[bench.Case]:
    rows = json.loads((bench.DATA / "presidio-research" / "generated_large.json")
                      .read_text(encoding="utf-8"))
    return [bench.Case(f"presidio-{i}", "presidio-synthetic", 0, r["full_text"])
            for i, r in enumerate(rows)]


def source_of(row: Row) -> str:
    """The clean source a row counts in for the threshold."""
    tid, group = row[0], row[1]
    if tid.startswith("scifact-"):
        return "scifact"
    if tid.startswith("presidio-"):
        return "presidio-synthetic"
    return "bipia" if group.startswith("bipia-train") else "other documents"


def build() -> list[Row]:
    """One row per ingest chunk of the dev sets."""
    attacks = [a.strip() for a in _bipia_attacks() if a.strip()]
    sets = bench.dev_sets()
    sets["presidio-synthetic"] = _synthetic_clean()
    named = [(name, case) for name, cases in sets.items() for case in cases]
    chunked = bench.ingest_chunks([case.text for _, case in named])
    rows: list[Row] = []
    for (name, case), chunks in zip(named, chunked, strict=True):
        source = f"{name}/{case.group}" if name == "clean documents" else name
        group = f"{source}:{case.label}"
        for chunk in chunks:
            label = case.label
            if case.label and name == "bipia-train":
                # Only the chunk(s) holding the inserted attack are attacks.
                w = chunk.original
                label = int(any(a[:60] in w or a[-60:] in w for a in attacks))
            rows.append((case.id, group, label, chunk.original, chunk.masked))
    return rows


def split_ids(rows: list[Row]) -> set[str]:
    """Ids of the held-out texts: HELD_OUT of each group, fixed seed."""
    by_group: dict[str, list[str]] = {}
    for tid, group, *_ in rows:
        ids = by_group.setdefault(group, [])
        if tid not in ids:
            ids.append(tid)
    rng = random.Random(SEED)
    held: set[str] = {tid for ids in by_group.values() for tid in ids
                      if tid.startswith(EVAL_ONLY)}
    for group in sorted(by_group):
        ids = sorted(i for i in by_group[group] if not i.startswith(EVAL_ONLY))
        rng.shuffle(ids)
        held.update(ids[: max(1, round(len(ids) * HELD_OUT))] if len(ids) > 1 else [])
    return held


def _threshold(clean: np.ndarray) -> float:
    """Lowest threshold with at most MAX_CLEAN_FPR of ``clean`` at or above it."""
    ranked = np.sort(clean)
    allowed = int(np.floor(MAX_CLEAN_FPR * len(ranked)))
    if not len(ranked):
        return 0.5
    return round(max(float(ranked[len(ranked) - allowed - 1]) + 1e-4, 0.5), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="onnx-int8", choices=["onnx-int8", "onnx", "torch"])
    parser.add_argument("--dry-run", action="store_true", help="do not write the head")
    parser.add_argument("--cache", type=Path, help="npz cache of the window vectors")
    parser.add_argument("--C", type=float, nargs="+", default=[1.0, 3.0, 10.0, 30.0, 100.0],
                        help="inverse regularisation: the grid to pick from")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression

    rows = build()
    texts = [r[4] for r in rows]
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    if args.cache and args.cache.exists() and str(np.load(args.cache)["digest"]) == digest:
        x = np.load(args.cache)["x"]
    else:
        x = np.asarray(Embedder(backend=args.backend).embed(texts), dtype=np.float64)
        if args.cache:
            np.savez(args.cache, x=x, digest=digest)
    y = np.asarray([r[2] for r in rows])
    held = split_ids(rows)
    test = np.asarray([r[0] in held for r in rows])
    print(f"{len(rows)} windows ({int(y.sum())} attacks); fit on {int((~test).sum())}, "
          f"held out {int(test.sum())} ({len(held)} texts)")

    src = np.asarray([source_of(r) for r in rows])
    sources = sorted(set(src[test & (y == 0)]))
    flag_at = default_policy().injection.flag_at
    rules = np.asarray([score_injection(r[3]).score >= flag_at for r in rows])
    print(f"  rules alone: held-out recall {float(rules[test & (y == 1)].mean()):.3f}  "
          f"FPR {float(rules[test & (y == 0)].mean()):.3f}")
    best: tuple[float, float, float, LogisticRegression] | None = None
    for c in args.C:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000,
                                   random_state=SEED)
        model.fit(x[~test], y[~test])
        p = model.predict_proba(x)[:, 1]
        threshold = max(_threshold(p[test & (y == 0) & (src == g)]) for g in sources)
        combined = (p >= threshold) | rules
        recall = float(combined[test & (y == 1)].mean())
        fpr = float(combined[test & (y == 0)].mean())
        print(f"  C {c:<6g} threshold {threshold:.4f}  held-out rules OR head: "
              f"recall {recall:.3f}  FPR {fpr:.3f}")
        if best is None or recall > best[1]:
            best = (c, recall, threshold, model)
    assert best is not None
    c, _, threshold, model = best
    p = model.predict_proba(x)[:, 1]
    print(f"picked C {c:g}, threshold {threshold} (at most {MAX_CLEAN_FPR:.0%} of "
          f"{int((test & (y == 0)).sum())} held-out clean windows above, in each source)")

    groups = sorted({r[1] for r in rows})
    for side, mask in (("fit", ~test), ("held out", test)):
        print(f"\n{side}:")
        for g in groups:
            m = mask & np.asarray([r[1] == g for r in rows])
            if not m.any():
                continue
            fired = p[m] >= threshold
            both = fired | rules[m]
            pos = y[m] == 1
            print(f"  {g:<26} windows {int(m.sum()):>4}  attacks: head "
                  f"{int((fired & pos).sum()):>3}, rules {int((rules[m] & pos).sum()):>3}, "
                  f"either {int((both & pos).sum()):>3} of {int(pos.sum()):<3}  clean: head "
                  f"{int((fired & ~pos).sum()):>2}, either {int((both & ~pos).sum()):>2} "
                  f"of {int((~pos).sum())}")
    if args.dry_run:
        return 0
    head = {
        "format": "ragseal-injection-head/1",
        "embedder": f"all-MiniLM-L6-v2/{args.backend}",
        "dim": int(x.shape[1]),
        "weights": [round(float(v), 8) for v in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 8),
        "threshold": threshold,
        "trained_on": "BIPIA train split (rebuilt), CyberSecEval direct, Giskard, "
                      "llm-guard prompt_injection_cases, PINT example, clean documents "
                      "(sample corpus, SciFact, pebblo topics, unstructured examples)",
        "seed": SEED,
        "C": c,
    }
    data = (json.dumps(head, indent=1) + "\n").encode()
    OUT.write_bytes(data)
    print(f"\nwrote {OUT.relative_to(ROOT)}  sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
