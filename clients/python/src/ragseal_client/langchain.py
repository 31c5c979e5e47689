"""LangChain adapters (``pip install "ragseal-client[langchain]"``).

- :class:`RagsealRetriever`: a ``langchain_core`` ``BaseRetriever`` (sync
  and async) over ``POST /v1/retrieve``; each ``Document`` carries the
  chunk text and ``chunk_id``, ``doc_id``, ``score``, ``level``,
  ``masked``, ``injection``, ``retrieval_id`` as metadata.
- :class:`RagsealInspector`: a runnable that inspects the model's answer
  and returns the safe answer (a string), for the end of an LCEL chain.

The end user's token is given **per run**: ``config={"configurable":
{"ragseal_token": token}}`` (a ``str`` or a pydantic ``SecretStr``), or a
``token_provider`` callable the adapter calls on every run. Neither object
stores a token or a result, so one chain serves every user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config
from pydantic import ConfigDict, Field, SecretStr

from ._adapters import chunk_metadata, retrieval_id_of
from ._client import AsyncRagsealClient, RagsealClient
from ._models import InspectResult, Retrieval

__all__ = ["TOKEN_KEY", "RagsealInspector", "RagsealRetriever"]

TOKEN_KEY = "ragseal_token"  # noqa: S105 - the name of a config key, not a secret
"""The ``configurable`` key that carries the end user's token for one run."""


def _token(config: RunnableConfig | None, provider: Callable[[], str] | None,
           explicit: object = None) -> str:
    value: object = explicit
    if value is None:
        value = ensure_config(config).get("configurable", {}).get(TOKEN_KEY)
    if value is None and provider is not None:
        value = provider()
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise ValueError(f"no ragseal token for this run: pass config={{'configurable': "
                         f"{{'{TOKEN_KEY}': ...}}}} or give a token_provider")
    return value


def _run_token(kwargs: Mapping[str, Any]) -> str:
    token = kwargs.get("ragseal_token")
    if not isinstance(token, SecretStr):
        raise ValueError("call the retriever through invoke/ainvoke with the run's token")
    return token.get_secret_value()


def _documents(retrieval: Retrieval) -> list[Document]:
    return [Document(page_content=c.text, metadata=chunk_metadata(c, retrieval), id=c.chunk_id)
            for c in retrieval.chunks]


class RagsealRetriever(BaseRetriever):
    """Chunks the run's user may see, as that user may see them.

    Give ``base_url`` (clients are made for it) or ``client`` / ``async_client``.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    base_url: str | None = None
    client: RagsealClient | None = None
    async_client: AsyncRagsealClient | None = None
    top_k: int = Field(default=5, ge=1, le=50)
    token_provider: Callable[[], str] | None = Field(default=None, exclude=True, repr=False)

    def model_post_init(self, context: Any, /) -> None:
        if self.client is None and self.async_client is None and self.base_url is None:
            raise ValueError("give base_url, client or async_client")
        if self.client is None and self.base_url is not None:
            self.client = RagsealClient(self.base_url)
        if self.async_client is None and self.base_url is not None:
            self.async_client = AsyncRagsealClient(self.base_url)

    def invoke(self, input: str, config: RunnableConfig | None = None,
               **kwargs: Any) -> list[Document]:
        token = _token(config, self.token_provider, kwargs.pop("token", None))
        return super().invoke(input, config, ragseal_token=SecretStr(token), **kwargs)

    async def ainvoke(self, input: str, config: RunnableConfig | None = None,
                      **kwargs: Any) -> list[Document]:
        token = _token(config, self.token_provider, kwargs.pop("token", None))
        return await super().ainvoke(input, config, ragseal_token=SecretStr(token), **kwargs)

    # invoke() passes the run's token as the keyword ``ragseal_token`` (a SecretStr).
    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        if self.client is None:
            raise RuntimeError("this retriever has only an async client: use ainvoke")
        retrieval = self.client.retrieve(query, top_k=self.top_k,
                                         token=_run_token(kwargs))
        return _documents(retrieval)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any,
    ) -> list[Document]:
        if self.async_client is None:
            raise RuntimeError("this retriever has only a sync client: use invoke")
        retrieval = await self.async_client.retrieve(query, top_k=self.top_k,
                                                     token=_run_token(kwargs))
        return _documents(retrieval)


def _answer_and_id(value: Any) -> tuple[str, str | None]:
    """The answer text and the retrieval id from what the chain hands over.

    Accepts a string, a chat message, or a mapping with ``answer`` and the
    retrieved ``docs`` / ``context`` (Documents) or a ``retrieval_id``.
    """
    rid: str | None = None
    if isinstance(value, Mapping):
        rid = value.get("retrieval_id")
        docs = value.get("docs", value.get("context"))
        if rid is None and isinstance(docs, Sequence) and not isinstance(docs, str):
            rid = retrieval_id_of(d.metadata for d in docs if isinstance(d, Document))
        value = value.get("answer")
    if isinstance(value, BaseMessage):
        text: Any = value.text
        value = str(text) if isinstance(text, str) else str(text())
    if not isinstance(value, str):
        raise TypeError("RagsealInspector takes a string, a message, or a mapping with 'answer'")
    return value, rid


class RagsealInspector(Runnable[Any, Any]):
    """Inspect the answer; return the safe answer (``str``), or the whole
    :class:`~ragseal_client.InspectResult` with ``full_result=True``.

    Without a retrieval id (pass ``{"answer", "docs"}``) every entity above
    the user's clearance is a finding: correct, only stricter.
    """

    def __init__(self, *, base_url: str | None = None, client: RagsealClient | None = None,
                 async_client: AsyncRagsealClient | None = None,
                 token_provider: Callable[[], str] | None = None,
                 full_result: bool = False) -> None:
        if client is None and async_client is None and base_url is None:
            raise ValueError("give base_url, client or async_client")
        self.client = client or (RagsealClient(base_url) if base_url else None)
        self.async_client = async_client or (AsyncRagsealClient(base_url) if base_url else None)
        self.token_provider = token_provider
        self.full_result = full_result

    def __repr__(self) -> str:
        return "RagsealInspector()"

    def _out(self, result: InspectResult) -> Any:
        return result if self.full_result else result.answer

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        token = _token(config, self.token_provider, kwargs.pop("token", None))
        if self.client is None:
            raise RuntimeError("this inspector has only an async client: use ainvoke")
        client = self.client

        def run(value: Any) -> Any:
            answer, rid = _answer_and_id(value)
            return self._out(client.inspect(answer, rid, token=token))

        return self._call_with_config(run, input, config, run_type="parser")

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None,
                      **kwargs: Any) -> Any:
        token = _token(config, self.token_provider, kwargs.pop("token", None))
        if self.async_client is None:
            raise RuntimeError("this inspector has only a sync client: use invoke")
        client = self.async_client

        async def run(value: Any) -> Any:
            answer, rid = _answer_and_id(value)
            return self._out(await client.inspect(answer, rid, token=token))

        return await self._acall_with_config(run, input, config, run_type="parser")
