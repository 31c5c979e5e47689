"""LlamaIndex adapters (``pip install "ragseal-client[llama-index]"``).

- :class:`RagsealRetriever`: a ``llama_index.core`` ``BaseRetriever`` over
  ``POST /v1/retrieve``; each node carries the chunk text and ``chunk_id``,
  ``doc_id``, ``score``, ``level``, ``masked``, ``injection``,
  ``retrieval_id`` as metadata (kept out of what the LLM and the embedder see).
- :class:`RagsealQueryEngine`: wraps any query engine (e.g. a
  ``RetrieverQueryEngine`` over :class:`RagsealRetriever`) and returns the
  answer only after ``POST /v1/inspect``: the safe answer, with the verdict
  and findings in ``response.metadata["ragseal"]``.

LlamaIndex has no per-run configuration, so the token comes from ``token``:
a callable the adapter calls on every retrieval and inspection (read your
request context there), or a string for an engine built per request.
Nothing is cached between calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import RESPONSE_TYPE, Response
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ._adapters import chunk_metadata, retrieval_id_of
from ._client import AsyncRagsealClient, RagsealClient
from ._models import InspectResult, Retrieval

__all__ = ["RagsealQueryEngine", "RagsealRetriever"]

Token = str | Callable[[], str]
_HIDDEN = ["chunk_id", "doc_id", "score", "level", "masked", "injection", "retrieval_id"]


def _token(token: Token) -> str:
    return token() if callable(token) else token


def _clients(base_url: str | None, client: RagsealClient | None,
             async_client: AsyncRagsealClient | None
             ) -> tuple[RagsealClient | None, AsyncRagsealClient | None]:
    if client is None and async_client is None and base_url is None:
        raise ValueError("give base_url, client or async_client")
    return (client or (RagsealClient(base_url) if base_url else None),
            async_client or (AsyncRagsealClient(base_url) if base_url else None))


def _nodes(retrieval: Retrieval) -> list[NodeWithScore]:
    return [NodeWithScore(node=TextNode(text=c.text, id_=c.chunk_id,
                                        metadata=chunk_metadata(c, retrieval),
                                        excluded_llm_metadata_keys=list(_HIDDEN),
                                        excluded_embed_metadata_keys=list(_HIDDEN)),
                          score=c.score)
            for c in retrieval.chunks]


class RagsealRetriever(BaseRetriever):
    """Chunks the token's user may see, as that user may see them."""

    def __init__(self, *, token: Token, base_url: str | None = None,
                 client: RagsealClient | None = None,
                 async_client: AsyncRagsealClient | None = None, top_k: int = 5,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._client, self._async_client = _clients(base_url, client, async_client)
        self._token = token
        self._top_k = top_k

    def __repr__(self) -> str:
        return f"RagsealRetriever(top_k={self._top_k})"

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if self._client is None:
            raise RuntimeError("this retriever has only an async client: use aretrieve")
        return _nodes(self._client.retrieve(query_bundle.query_str, top_k=self._top_k,
                                            token=_token(self._token)))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if self._async_client is None:
            return self._retrieve(query_bundle)
        return _nodes(await self._async_client.retrieve(
            query_bundle.query_str, top_k=self._top_k, token=_token(self._token)))


def _answer(response: RESPONSE_TYPE) -> tuple[str, str | None, list[NodeWithScore]]:
    if not isinstance(response, Response):
        raise TypeError("RagsealQueryEngine inspects whole answers: build the inner engine "
                        "with streaming=False")
    rid = retrieval_id_of(n.node.metadata for n in response.source_nodes)
    return response.response or "", rid, list(response.source_nodes)


def _safe(result: InspectResult, nodes: list[NodeWithScore],
          metadata: dict[str, Any] | None) -> Response:
    meta = dict(metadata or {})
    meta["ragseal"] = {"verdict": result.verdict,
                       "findings": [f.model_dump() for f in result.findings]}
    return Response(response=result.answer, source_nodes=nodes, metadata=meta)


class RagsealQueryEngine(BaseQueryEngine):
    """A query engine whose answers are inspected before they are returned."""

    def __init__(self, engine: BaseQueryEngine, *, token: Token, base_url: str | None = None,
                 client: RagsealClient | None = None,
                 async_client: AsyncRagsealClient | None = None) -> None:
        super().__init__(callback_manager=engine.callback_manager)
        self._engine = engine
        self._client, self._async_client = _clients(base_url, client, async_client)
        self._token = token

    def __repr__(self) -> str:
        return "RagsealQueryEngine()"

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {"engine": self._engine}

    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        if self._client is None:
            raise RuntimeError("this engine has only an async client: use aquery")
        response = self._engine.query(query_bundle)
        answer, rid, nodes = _answer(response)
        result = self._client.inspect(answer, rid, token=_token(self._token))
        return _safe(result, nodes, getattr(response, "metadata", None))

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        if self._async_client is None:
            return self._query(query_bundle)
        response = await self._engine.aquery(query_bundle)
        answer, rid, nodes = _answer(response)
        result = await self._async_client.inspect(answer, rid, token=_token(self._token))
        return _safe(result, nodes, getattr(response, "metadata", None))
