"""A real LCEL chain — RagsealRetriever | prompt | fake chat model | RagsealInspector —
against the API under uvicorn: the employee's chain gets masked context, HR's clear
names, and a leaking answer is caught. One chain object serves both users."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough
from ragseal_client.langchain import TOKEN_KEY, RagsealInspector, RagsealRetriever

from ._live import ALL_HANDS, EMPLOYEE, HR, NAME, ragseal_app, serve, token
from .conftest import World

pytestmark = pytest.mark.slow

PROMPT = ChatPromptTemplate.from_messages([
    ("system", "Answer only from these excerpts:\n\n{context}"), ("human", "{question}")])


@pytest.fixture(scope="module")
def url(world: World) -> Iterator[str]:
    with serve(ragseal_app(world, rate_limit_per_minute=0)) as base:
        yield base


def chain(url: str, answer: str, prompts: list[str]) -> Runnable[str, str]:
    def seen(prompt: PromptValue) -> PromptValue:
        prompts.append(prompt.to_string())
        return prompt

    def context(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    model = GenericFakeChatModel(messages=iter([AIMessage(answer)] * 4))
    generate = ({"context": lambda x: context(x["docs"]), "question": lambda x: x["question"]}
                | PROMPT | RunnableLambda(seen) | model | StrOutputParser())
    return (RunnableParallel(docs=RagsealRetriever(base_url=url),
                             question=RunnablePassthrough())
            | RunnablePassthrough.assign(answer=generate)
            | RagsealInspector(base_url=url))


def config(who: dict[str, Any]) -> Any:
    return {"configurable": {TOKEN_KEY: token(**who)}}


def test_retriever_documents_carry_the_contract_metadata(url: str) -> None:
    docs = RagsealRetriever(base_url=url, top_k=3).invoke(ALL_HANDS, config=config(EMPLOYEE))
    assert 1 <= len(docs) <= 3
    meta = docs[0].metadata
    assert {"chunk_id", "doc_id", "score", "level", "masked", "retrieval_id"} <= set(meta)
    assert meta["injection"]["flagged"] in (True, False)
    assert len({d.metadata["retrieval_id"] for d in docs}) == 1


def test_employee_chain_sees_masked_context_and_its_leak_is_caught(url: str) -> None:
    prompts: list[str] = []
    leak = f"The all-hands is organised by {NAME}."
    safe = chain(url, leak, prompts).invoke(ALL_HANDS, config=config(EMPLOYEE))
    assert NAME not in prompts[0] and "<PERSON_" in prompts[0]
    assert NAME not in safe and safe.startswith("The all-hands is organised by <")


def test_hr_chain_reads_clear_names_and_its_answer_passes(url: str) -> None:
    prompts: list[str] = []
    answer = f"The all-hands is organised by {NAME}."
    assert chain(url, answer, prompts).invoke(ALL_HANDS, config=config(HR)) == answer
    assert NAME in prompts[0]


def test_a_secret_is_blocked_for_everyone_async(url: str) -> None:
    leaky = chain(url, "Deploy with AKIAQ3EGRJ5KZXMBT7WN today.", [])
    safe = asyncio.run(leaky.ainvoke(ALL_HANDS, config=config(HR)))
    assert "AKIA" not in safe and "withheld" in safe


def test_without_a_token_the_chain_refuses_to_run(url: str) -> None:
    with pytest.raises(ValueError, match="no ragseal token"):
        RagsealRetriever(base_url=url).invoke(ALL_HANDS)
