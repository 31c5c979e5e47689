"""A batch ingest beside a running server: retrieve latency and batch throughput.

Two figures of CONTRACT.md's "Working beside a running server":

- ``/v1/retrieve`` p50/p95 with the server idle, then while ``ragseal
  ingest`` of a batch runs beside it through its socket (target: p95 no
  more than 2x);
- the batch's throughput (chunks written per second of the run, from the
  CLI's ``--json`` report) standalone, with no server, vs through the server
  (target >= 0.8x).

Each round starts from a copy of the same data dir (the sample corpus
ingested); the batch is ``--docs`` BEIR SciFact abstracts (third-party data
in /work/shared/data, read from there, written as .txt files into a
temporary folder) for a tenant of its own. Rounds alternate which side runs
first; the load average is printed beside every figure.

    .venv/bin/python benchmarks/beside.py [--docs 120] [--rounds 3] [--idle 20] [--rate 2]
"""

# ruff: noqa: T201, S311, S603  (a benchmark prints; seeded choices; runs our own CLI)
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _workload import PRINCIPALS, QUERIES, pct, serving_process  # noqa: E402
from ragseal.api._auth import mint_token  # noqa: E402

SCIFACT = Path("/work/shared/data/beir-scifact")
SECRET = "bench-beside-secret-" + "x" * 40  # noqa: S105 - a throwaway benchmark secret
MANIFEST = "defaults: {tenant: batch, groups: [all-staff], level: internal}\n"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ragseal.api.cli", *argv], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)


def write_batch(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            d = json.loads(line)
            (folder / f"{d['_id']}.txt").write_text(f"{d['title']}\n\n{d['text']}",
                                                     encoding="utf-8")
    (folder / "acl.yaml").write_text(MANIFEST, encoding="utf-8")


class Retriever:
    """One client retrieving, latencies in ms.

    With ``rate`` > 0 the requests are paced (open loop, a chatbot's users
    arriving at ``rate`` per second) and each latency is counted from the
    moment its request was due, so a request that waits behind a slow one is
    charged the wait (no coordinated omission). With ``rate`` 0 the client
    sends back to back, which saturates the server: a stress figure, not a
    service one.
    """

    def __init__(self, base: str, rate: float = 0.0) -> None:
        self.base = base
        self.rate = rate
        self.stop = threading.Event()
        self.ms: list[float] = []
        self.errors = 0
        self.rng = random.Random(7)
        self.tokens = [mint_token(SECRET, **p) for p in PRINCIPALS]  # type: ignore[arg-type]

    def run(self) -> None:
        interval = 1.0 / self.rate if self.rate > 0 else 0.0
        due = time.perf_counter()
        with httpx.Client(base_url=self.base, timeout=120) as c:
            while not self.stop.is_set():
                token = self.rng.choice(self.tokens)
                if interval:
                    due += interval
                    pause = due - time.perf_counter()
                    if pause > 0 and self.stop.wait(pause):
                        break
                    started = due
                else:
                    started = time.perf_counter()
                r = c.post("/v1/retrieve", json={"query": self.rng.choice(QUERIES), "top_k": 5},
                           headers={"Authorization": f"Bearer {token}"})
                if r.status_code == 200:
                    self.ms.append((time.perf_counter() - started) * 1000)
                else:
                    self.errors += 1

    def window(self, seconds: float | None, until: subprocess.Popen[str] | None = None,
               ) -> list[float]:
        self.ms, self.stop = [], threading.Event()
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        if until is not None:
            until.wait()
        else:
            time.sleep(seconds or 0)
        self.stop.set()
        thread.join()
        return self.ms


def ingest_rate(report: dict[str, object]) -> tuple[float, int, float]:
    chunks, seconds = int(report["chunks_written"]), float(report["seconds"])  # type: ignore[arg-type]
    return chunks / seconds, chunks, seconds


def standalone(base: Path, batch: Path, work: Path) -> tuple[float, str]:
    state = work / "standalone"
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(base, state)
    env = environ(state)
    before = load()
    run = cli(env, "ingest", str(batch), "--manifest", str(batch / "acl.yaml"), "--json",
              "--workers", "1")
    if run.returncode != 0:
        raise SystemExit(f"standalone ingest failed: {run.stderr[-500:]}")
    rate, chunks, seconds = ingest_rate(json.loads(run.stdout))
    print(f"  standalone ingest: {chunks} chunks in {seconds:.1f}s = {rate:.2f} chunks/s "
          f"({before} -> {load()})", flush=True)
    return rate, load()


def beside(base: Path, batch: Path, work: Path, idle_s: float, rate: float) -> dict[str, float]:
    state = work / "beside"
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(base, state)
    env = environ(state)
    with serving_process(env, ROOT, startup_s=900) as (url, _server):
        client = Retriever(url, rate)
        client.window(3)  # warm the path
        before = load()
        idle = client.window(idle_s)
        print(f"  retrieve, server idle: n={len(idle)} p50 {pct(idle, .5):.1f} ms "
              f"p95 {pct(idle, .95):.1f} ms ({before} -> {load()})", flush=True)
        before = load()
        ingest = subprocess.Popen(
            [sys.executable, "-m", "ragseal.api.cli", "ingest", str(batch), "--manifest",
             str(batch / "acl.yaml"), "--json", "--workers", "1"],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out: dict[str, str] = {}
        reader = threading.Thread(target=lambda: out.update(
            zip(("stdout", "stderr"), ingest.communicate(), strict=True)), daemon=True)
        reader.start()
        busy = client.window(None, until=ingest)
        reader.join()
        if ingest.returncode != 0:
            raise SystemExit(f"ingest beside the server failed: {out.get('stderr', '')[-500:]}")
        rate, chunks, seconds = ingest_rate(json.loads(out["stdout"]))
        print(f"  retrieve, batch ingest beside: n={len(busy)} p50 {pct(busy, .5):.1f} ms "
              f"p95 {pct(busy, .95):.1f} ms; errors {client.errors} ({before} -> {load()})",
              flush=True)
        print(f"  ingest through the server: {chunks} chunks in {seconds:.1f}s = "
              f"{rate:.2f} chunks/s", flush=True)
    return {"idle_p50": pct(idle, .5), "idle_p95": pct(idle, .95), "busy_p50": pct(busy, .5),
            "busy_p95": pct(busy, .95), "rate": rate}


def environ(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSEAL_")}
    env.update(RAGSEAL_DATA_DIR=str(data_dir), RAGSEAL_JWT_SECRET=SECRET,
               RAGSEAL_RATE_LIMIT_PER_MINUTE="0")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle retrieves")
    parser.add_argument("--rate", type=float, default=2.0,
                        help="retrieves per second, paced (0: back to back, a stress figure)")
    parser.add_argument("--base", type=Path,
                        help="a data dir holding the sample corpus already (copied, not used)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragseal-beside-") as tmp:
        work = Path(tmp)
        base, batch = work / "base", work / "batch"
        write_batch(batch, args.docs)
        corpus = ROOT / "samples" / "corpus"
        if args.base is not None:
            shutil.copytree(args.base, base)
        else:
            run = cli(environ(base), "ingest", str(corpus), "--manifest",
                      str(corpus / "acl.yaml"), "--workers", "1")
            if run.returncode != 0:
                raise SystemExit(f"base ingest failed: {run.stderr[-500:]}")
        pace = f"{args.rate:g} retrieves/s paced" if args.rate > 0 else "retrieves back to back"
        print(f"batch: {args.docs} SciFact abstracts; {pace}; {os.cpu_count()} cores",
              flush=True)
        alone: list[float] = []
        served: list[dict[str, float]] = []
        for r in range(args.rounds):
            print(f"round {r + 1}", flush=True)
            sides = [lambda: alone.append(standalone(base, batch, work)[0]),
                     lambda: served.append(beside(base, batch, work, args.idle, args.rate))]
            for side in sides if r % 2 == 0 else reversed(sides):
                side()
        print("summary (medians over rounds)")
        med = sorted(alone)[len(alone) // 2]
        for key in ("idle_p50", "idle_p95", "busy_p50", "busy_p95", "rate"):
            values = sorted(s[key] for s in served)
            print(f"  {key}: {values[len(values) // 2]:.2f} (all: "
                  f"{', '.join(f'{v:.2f}' for v in values)})")
        print(f"  standalone rate: {med:.2f} (all: {', '.join(f'{v:.2f}' for v in alone)})")
        ratio = sorted(s["busy_p95"] / s["idle_p95"] for s in served)
        # Each round's beside run against the standalone run of the same round.
        rates = sorted(s["rate"] / a for s, a in zip(served, alone, strict=True))
        print(f"  p95 busy/idle (target <= 2): {', '.join(f'{v:.2f}' for v in ratio)}; "
              f"rate beside/standalone, same round (target >= 0.8): "
              f"{', '.join(f'{v:.2f}' for v in rates)}")


if __name__ == "__main__":
    main()
