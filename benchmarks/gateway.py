"""The chat-completions gateway's cost, and ragseal-client's install size.

Overhead: a scripted OpenAI-compatible upstream (uvicorn, in this process)
streams a ~600-character answer in 4-character tokens, ``--token-ms`` apart
(default 10 ms: ~100 tokens/s, a fast hosted model). ``ragseal serve`` runs
as its own process with ``RAGSEAL_UPSTREAM_URL`` pointing at it. Each round
sends ``--requests`` requests straight to the upstream, then the same through
the gateway (as one employee, the official ``openai`` SDK as the client),
alternating sides round after round. Reported per side: p50 of a whole
non-streamed answer, p50 time to first content token (TTFT) and p50 of the
whole stream. The gateway adds retrieval (before the upstream is called) and
inspection (the held tail and the final pass); the TTFT difference is the
latency a user sees.

Install size (``--sizes``): fresh venvs (``python -m venv``), ``pip install``
of clients/python with no extra, ``[langchain]`` and ``[llama-index]``;
``du -s`` of site-packages minus a bare venv's.

    .venv/bin/python benchmarks/gateway.py [--data-dir DIR] [--rounds 3] [--requests 10]
    .venv/bin/python benchmarks/gateway.py --sizes
"""

# ruff: noqa: T201, S603, S607  (a benchmark prints, runs pip and du with fixed arguments)
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import openai

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _workload import PRINCIPALS, pct, serving, serving_process  # noqa: E402
from ragseal.api._auth import mint_token  # noqa: E402

SECRET = "bench-gateway-secret-" + "x" * 40  # noqa: S105 - a throwaway benchmark secret
ANSWER = ("The travel policy allows economy class for flights under six hours and premium "
          "economy above that. Hotels are booked through the travel desk, up to the city "
          "rate in the policy appendix. Meals are reimbursed at cost with receipts, up to "
          "the daily allowance; alcohol is not reimbursed. Mileage for a private car is paid "
          "at the standard rate when it is cheaper than a rental. Submit the claim within "
          "thirty days of the trip, with every receipt attached, to the finance inbox. ") * 1
QUESTION = "What is the travel expense limit?"


def upstream_app(token_ms: float) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    pieces = [ANSWER[i:i + 4] for i in range(0, len(ANSWER), 4)]

    async def complete(request: Request) -> Response:
        body = await request.json()
        if not body.get("stream"):
            await asyncio.sleep(token_ms * len(pieces) / 1000)
            return JSONResponse({"id": "u", "object": "chat.completion", "created": 0,
                                 "model": "m", "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": ANSWER}}]})

        async def events() -> Any:
            for piece in pieces:
                await asyncio.sleep(token_ms / 1000)
                yield "data: " + json.dumps({"id": "u", "object": "chat.completion.chunk",
                                             "created": 0, "model": "m", "choices": [
                                                 {"index": 0, "delta": {"content": piece},
                                                  "finish_reason": None}]}) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"])])


def measure(client: openai.OpenAI) -> tuple[float, float, float]:
    """(whole answer ms, TTFT ms, whole stream ms) of one request each."""
    messages: Any = [{"role": "user", "content": QUESTION}]
    t = time.perf_counter()
    client.chat.completions.create(model="m", messages=messages)
    whole = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    ttft = None
    with client.chat.completions.create(model="m", messages=messages, stream=True) as stream:
        for chunk in stream:
            if ttft is None and chunk.choices and chunk.choices[0].delta.content:
                ttft = (time.perf_counter() - t) * 1000
    total = (time.perf_counter() - t) * 1000
    return whole, ttft if ttft is not None else total, total


def overhead(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ragseal-bench-gw-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        env = {**os.environ, "RAGSEAL_DATA_DIR": str(data_dir), "RAGSEAL_JWT_SECRET": SECRET,
               "RAGSEAL_RATE_LIMIT_PER_MINUTE": "0"}
        if args.data_dir is None:
            print("ingesting samples/corpus ...", flush=True)
            subprocess.run([sys.executable, "-m", "ragseal.api.cli", "ingest",
                            str(ROOT / "samples/corpus"), "--manifest",
                            str(ROOT / "samples/corpus/acl.yaml")], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        with serving(upstream_app(args.token_ms)) as up:
            env["RAGSEAL_UPSTREAM_URL"] = up + "/v1"
            with serving_process(env, ROOT) as (base, _):
                token = mint_token(SECRET, **PRINCIPALS[0])  # type: ignore[arg-type]
                sides = {
                    "direct": openai.OpenAI(base_url=up + "/v1", api_key="none", max_retries=0),
                    "gateway": openai.OpenAI(base_url=base + "/v1", api_key=token,
                                             max_retries=0, timeout=120),
                }
                for client in sides.values():
                    measure(client)  # warm up (models, connections)
                results: dict[str, list[tuple[float, float, float]]] = {s: [] for s in sides}
                for round_ in range(args.rounds):
                    for side, client in sides.items():
                        runs = [measure(client) for _ in range(args.requests)]
                        results[side] += runs
                        load = os.getloadavg()[0]
                        print(f"round {round_ + 1} {side:8s} whole p50 "
                              f"{pct([r[0] for r in runs], .5):7.1f} ms  TTFT p50 "
                              f"{pct([r[1] for r in runs], .5):7.1f} ms  stream p50 "
                              f"{pct([r[2] for r in runs], .5):7.1f} ms  (load {load:.1f})",
                              flush=True)
                print("\nall rounds (shared machine; load printed per round):")
                for side, runs in results.items():
                    print(f"  {side:8s} whole p50 {pct([r[0] for r in runs], .5):7.1f} ms  "
                          f"TTFT p50 {pct([r[1] for r in runs], .5):7.1f} ms  "
                          f"stream p50 {pct([r[2] for r in runs], .5):7.1f} ms  "
                          f"n={len(runs)}")


def _du_kib(path: Path) -> int:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def _site_packages(venv: Path) -> Path:
    (site,) = (venv / "lib").glob("python*/site-packages")
    return site


def sizes() -> None:
    with tempfile.TemporaryDirectory(prefix="ragseal-bench-size-") as tmp:
        bare = Path(tmp) / "bare"
        subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True)
        base = _du_kib(_site_packages(bare))
        for extra in ("", "[langchain]", "[llama-index]"):
            venv = Path(tmp) / f"v{len(extra)}"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
                            str(ROOT / "clients/python") + extra], check=True)
            size = _du_kib(_site_packages(venv)) - base
            print(f"ragseal-client{extra or ''}: {size / 1024:.1f} MiB in site-packages "
                  f"(beyond a bare venv; load {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, help="an ingested data dir (skips ingest)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--token-ms", type=float, default=10.0)
    parser.add_argument("--sizes", action="store_true", help="measure install sizes instead")
    args = parser.parse_args()
    if args.sizes:
        sizes()
    else:
        overhead(args)


if __name__ == "__main__":
    main()
