"""``POST /v1/chat/completions``: an OpenAI-compatible gateway that inspects as it streams.

Why: a chatbot built on the OpenAI SDK gets ragseal by changing its
``base_url``. The caller's bearer is the **end user's** ragseal token: the
gateway retrieves with the user's last message under that principal's
rights, puts the fenced ``context`` (retrieval/_context.py) in a system
message, forwards to the upstream named by ``RAGSEAL_UPSTREAM_URL``, and
inspects the answer before the caller sees any of it:

- not streamed: the whole answer is inspected; ``block`` answers the fixed
  notice with ``finish_reason: "content_filter"``, ``redact`` the redacted
  answer;
- streamed: :class:`api._stream_guard.StreamGuard` emits only the safe
  rendering of a stable prefix, holding back the tail that could still
  become a finding.

The retrieval id travels in ``x-ragseal-retrieval-id`` and in the extra
``ragseal`` field of the answer (of the last chunk when streamed), with
the verdict (``x-ragseal-verdict`` too when not streamed: a stream's
headers leave before its verdict exists). Upstream time and size are
bounded; texts (messages, context, answers) are never logged or audited,
and an upstream's error body is never echoed.

Why one module past 400 lines: the OpenAI-compatible surface, the
inspection as it streams and its error mapping are one protocol adapter.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from ragseal.retrieval import BLOCKED_NOTICE, InspectResult, Principal
from starlette.concurrency import run_in_threadpool

from ._container import Services
from ._errors import ApiError
from ._routes._deps import PrincipalDep, ServicesDep, audit
from ._routes._models import ErrorOut
from ._settings import Settings
from ._stream_guard import StreamGuard

__all__ = ["include_gateway"]

log = logging.getLogger(__name__)

RETRIEVAL_HEADER = "x-ragseal-retrieval-id"
VERDICT_HEADER = "x-ragseal-verdict"
_MAX_MESSAGES = 256
_MAX_MESSAGE_CHARS = 100_000
_MAX_ANSWER_CHARS = 100_000  # what /v1/inspect accepts: a longer answer is not inspected


def _too_long() -> ApiError:
    return ApiError(502, "upstream_too_large", "the upstream answer exceeds the size limit")

_NO_CONTEXT = ("No document excerpt was found for this question in the documents this "
               "user may read; say so rather than guessing.")


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str = Field(max_length=_MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = Field(default=None)
    name: str | None = Field(default=None, max_length=64)

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """The subset of OpenAI's chat-completions request the gateway forwards.

    Tools and function calls are refused: their arguments would reach the
    caller without inspection. Other unknown fields are ignored, not forwarded.
    """

    model_config = ConfigDict(extra="ignore")
    model: str = Field(default="", max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=_MAX_MESSAGES)
    stream: StrictBool = False
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    stop: str | list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    n: int = Field(default=1, ge=1, le=1)
    tools: list[Any] | None = None
    functions: list[Any] | None = None

    def forwarded(self) -> dict[str, Any]:
        keep = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed",
                "presence_penalty", "frequency_penalty")
        return {k: getattr(self, k) for k in keep if getattr(self, k) is not None}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.gateway_settings
    if settings.upstream_url is None:
        raise ApiError(404, "gateway_disabled",
                       "the chat-completions gateway is off: set RAGSEAL_UPSTREAM_URL")
    return settings


class _Upstream:
    """The upstream call: URL, headers, bounded time and size; errors become ApiErrors."""

    def __init__(self, settings: Settings) -> None:
        assert settings.upstream_url is not None
        self.url = settings.upstream_url.rstrip("/") + "/chat/completions"
        self.headers = {"Accept": "application/json"}
        if settings.upstream_api_key is not None:
            self.headers["Authorization"] = \
                f"Bearer {settings.upstream_api_key.get_secret_value()}"
        self.max_bytes = settings.upstream_max_bytes
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.upstream_timeout_seconds, connect=10.0),
            follow_redirects=False, trust_env=False)

    async def open(self, body: dict[str, Any]) -> httpx.Response:
        try:
            request = self.client.build_request("POST", self.url, json=body,
                                                headers=self.headers)
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            raise ApiError(504, "upstream_timeout", "the upstream model did not answer in time")\
                from None
        except httpx.HTTPError as exc:
            log.warning("upstream unreachable", extra={"error_type": type(exc).__name__})
            raise ApiError(502, "upstream_unavailable", "the upstream model is unreachable")\
                from None
        if response.status_code != 200:
            await response.aclose()
            log.warning("upstream refused", extra={"upstream_status": response.status_code})
            raise ApiError(502, "upstream_error",
                           f"the upstream model answered HTTP {response.status_code}")
        return response

    async def read_json(self, response: httpx.Response) -> Any:
        data = bytearray()
        try:
            async for part in response.aiter_bytes():
                data += part
                if len(data) > self.max_bytes:
                    raise _too_long()
        except httpx.TimeoutException:
            raise ApiError(504, "upstream_timeout", "the upstream model did not answer in time")\
                from None
        except httpx.HTTPError:
            raise ApiError(502, "upstream_unavailable", "the upstream answer was cut off")\
                from None
        finally:
            await response.aclose()
        try:
            return json.loads(data)
        except ValueError:
            raise ApiError(502, "upstream_invalid", "the upstream answer is not JSON") from None

    async def events(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """The stream's JSON events, bounded in total size; stops at ``[DONE]``."""
        seen = 0
        async for line in response.aiter_lines():
            seen += len(line) + 1
            if seen > self.max_bytes:
                raise _too_long()
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            try:
                event = json.loads(payload)
            except ValueError:
                raise ApiError(502, "upstream_invalid",
                               "the upstream stream is not JSON events") from None
            if isinstance(event, dict):
                yield event

    async def close(self) -> None:
        await self.client.aclose()


def _first_choice(data: Any) -> dict[str, Any]:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return {}
    return choices[0]


def _usage(data: Any) -> dict[str, int] | None:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    return {k: v for k, v in usage.items()
            if k in ("prompt_tokens", "completion_tokens", "total_tokens")
            and isinstance(v, int) and not isinstance(v, bool)}


def _model_name(data: Any, fallback: str) -> str:
    model = data.get("model") if isinstance(data, dict) else None
    return model[:256] if isinstance(model, str) else fallback


def _sse(payload: dict[str, Any] | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


class _Chat:
    """One chat completion: retrieval done, upstream body built."""

    def __init__(self, svc: Services, settings: Settings, principal: Principal,
                 body: ChatRequest) -> None:
        self.svc = svc
        self.settings = settings
        self.principal = principal
        self.body = body
        self.model = settings.upstream_model or body.model or "ragseal"
        self.id = "chatcmpl-ragseal-" + secrets.token_hex(12)
        self.created = int(time.time())
        self.retrieval_id = ""

    def query(self) -> str:
        for message in reversed(self.body.messages):
            if message.role == "user":
                text = message.text().strip()
                if text:
                    return text
        raise ApiError(422, "invalid_request", "invalid request: no user message to answer")

    def retrieve(self) -> list[dict[str, Any]]:
        """Retrieve as the principal (audited like /v1/retrieve); the upstream messages."""
        svc, query = self.svc, self.query()
        query_hash = svc.ids.keyed_hash("query", query)
        if len(query) > self.settings.max_query_chars:
            audit(svc, "retrieve", self.principal, "invalid", reason="query_too_long",
                  query_hash=query_hash, via="gateway")
            raise ApiError(422, "invalid_request", "the last user message is too long")
        # The tenant's policy in force, as /v1/retrieve (PolicyUnavailable: 503), never the base.
        paths = svc.for_tenant(self.principal.tenant)
        result = paths.retriever.retrieve(self.principal, query, self.settings.gateway_top_k)
        audit(svc, "retrieve", self.principal, top_k=self.settings.gateway_top_k,
              query_hash=query_hash, returned=len(result.chunks), dropped=result.dropped,
              chunk_ids=[c.chunk_id for c in result.chunks],
              doc_ids=sorted({c.doc_id for c in result.chunks}),
              retrieval_hash=svc.ids.keyed_hash("retrieval-id", result.retrieval_id),
              via="gateway")
        self.retrieval_id = result.retrieval_id
        system = {"role": "system", "content": result.context or _NO_CONTEXT}
        messages = [system] + [
            {"role": m.role, "content": m.text()} for m in self.body.messages]
        return messages

    def inspect(self, answer: str) -> InspectResult:
        inspector = self.svc.for_tenant(self.principal.tenant).inspector  # its policy in force
        return inspector.inspect(self.principal, answer, self.retrieval_id)

    def record(self, app: FastAPI, verdict: str, findings: int, streamed: bool) -> None:
        app.state.metrics.verdicts.labels(verdict=verdict).inc()
        audit(self.svc, "inspect", self.principal, verdict=verdict, findings=findings,
              retrieval_hash=self.svc.ids.keyed_hash("retrieval-id", self.retrieval_id),
              via="gateway", streamed=streamed)

    def summary(self, verdict: str, findings: list[dict[str, object]] | None = None
              ) -> dict[str, object]:
        out: dict[str, object] = {"retrieval_id": self.retrieval_id, "verdict": verdict}
        if findings is not None:
            out["findings"] = findings
        return out

    def chunk(self, delta: dict[str, Any], finish: str | None = None,
              extra: dict[str, object] | None = None) -> bytes:
        event: dict[str, Any] = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if extra is not None:
            event["ragseal"] = extra
        return _sse(event)


async def _complete(request: Request, chat: _Chat, upstream: _Upstream,
                    messages: list[dict[str, Any]]) -> JSONResponse:
    body = {"model": chat.model, "messages": messages, "stream": False,
            **chat.body.forwarded()}
    data = await upstream.read_json(await upstream.open(body))
    choice = _first_choice(data)
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise ApiError(502, "upstream_invalid", "the upstream answer has no text content")
    if len(content) > _MAX_ANSWER_CHARS:
        raise _too_long()
    result = await run_in_threadpool(chat.inspect, content)
    await run_in_threadpool(chat.record, request.app, result.verdict, len(result.findings), False)
    finish = choice.get("finish_reason")
    out_message: dict[str, Any] = {"role": "assistant", "content": result.answer}
    if result.verdict == "block":
        finish = "content_filter"
        out_message["refusal"] = result.answer
    answer: dict[str, Any] = {
        "id": chat.id, "object": "chat.completion", "created": chat.created,
        "model": _model_name(data, chat.model),
        "choices": [{"index": 0, "message": out_message,
                     "finish_reason": finish if isinstance(finish, str) else "stop"}],
        "ragseal": chat.summary(result.verdict, [f.as_dict() for f in result.findings]),
    }
    usage = _usage(data)
    if usage:
        answer["usage"] = usage
    return JSONResponse(answer, headers={RETRIEVAL_HEADER: chat.retrieval_id,
                                         VERDICT_HEADER: result.verdict})


async def _stream(request: Request, chat: _Chat, upstream: _Upstream,
                  messages: list[dict[str, Any]]) -> StreamingResponse:
    body = {"model": chat.model, "messages": messages, "stream": True,
            **chat.body.forwarded()}
    response = await upstream.open(body)
    guard = StreamGuard(chat.inspect, hold=chat.settings.gateway_hold_chars)

    async def events() -> AsyncIterator[bytes]:
        finish: str | None = None
        error: ApiError | None = None
        try:
            yield chat.chunk({"role": "assistant", "content": ""})
            try:
                async for event in upstream.events(response):
                    choice = _first_choice(event)
                    delta = choice.get("delta")
                    text = delta.get("content") if isinstance(delta, dict) else None
                    if isinstance(choice.get("finish_reason"), str):
                        finish = choice["finish_reason"]
                    if not isinstance(text, str) or not text:
                        continue
                    if len(guard.raw) + len(text) > _MAX_ANSWER_CHARS:
                        raise _too_long()
                    safe = await run_in_threadpool(guard.feed, text)
                    if safe is None:
                        break
                    if safe:
                        yield chat.chunk({"content": safe})
            except ApiError as exc:
                error = exc
            except httpx.HTTPError:
                error = ApiError(502, "upstream_unavailable", "the upstream stream was cut off")
            if error is not None:
                # What was held back stays held: an incomplete answer is not inspected as whole.
                await run_in_threadpool(chat.record, request.app, "block", 0, True)
                yield _sse({"error": {"code": error.code, "message": error.message}})
                return
            rest = await run_in_threadpool(guard.finish) if not guard.cut else None
            if guard.cut:
                notice = ("\n\n" if guard.emitted else "") + BLOCKED_NOTICE
                yield chat.chunk({"content": notice, "refusal": BLOCKED_NOTICE})
                finish = "content_filter"
            elif rest:
                yield chat.chunk({"content": rest})
            await run_in_threadpool(chat.record, request.app, guard.verdict, guard.findings,
                                    True)
            yield chat.chunk({}, finish or "stop", chat.summary(guard.verdict))
            yield _sse("[DONE]")
        finally:
            await response.aclose()
            await upstream.close()

    return StreamingResponse(events(), media_type="text/event-stream", headers={
        RETRIEVAL_HEADER: chat.retrieval_id, "Cache-Control": "no-store",
        "X-Accel-Buffering": "no"})


router = APIRouter(tags=["gateway"])


@router.post("/v1/chat/completions", response_model=None, responses={
    502: {"model": ErrorOut, "description": "The upstream model failed or answered badly"},
    504: {"model": ErrorOut, "description": "The upstream model did not answer in time"},
})
async def chat_completions(
    settings: Annotated[Settings, Depends(_settings)],
    request: Request,
    body: ChatRequest,
    principal: PrincipalDep,
    svc: ServicesDep,
) -> JSONResponse | StreamingResponse:
    """OpenAI-compatible chat completions over the user's retrieval, inspected before shown."""
    if body.tools or body.functions:
        raise ApiError(422, "unsupported_feature",
                       "tools and function calls are not supported by the gateway")
    chat = _Chat(svc, settings, principal, body)
    messages = await run_in_threadpool(chat.retrieve)
    upstream = _Upstream(settings)
    if body.stream:
        try:
            return await _stream(request, chat, upstream, messages)
        except BaseException:
            await upstream.close()
            raise
    try:
        return await _complete(request, chat, upstream, messages)
    finally:
        await upstream.close()


def include_gateway(app: FastAPI, settings: Settings) -> None:
    """Add ``/v1/chat/completions``; it answers 404 ``gateway_disabled`` without an upstream."""
    app.state.gateway_settings = settings
    app.include_router(router)
