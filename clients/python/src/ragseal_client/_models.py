"""Typed answers of the contract's routes (CONTRACT.md, "HTTP API").

Responses tolerate fields this client does not know yet (``extra="allow"``:
the server grows, an older client keeps working and can read them from
``model_extra``). Text that may carry document content (chunk text, the
fenced context, answers) is kept out of ``repr`` so that logging a result
does not log what it holds.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Document",
    "HeldChunk",
    "HeldDocument",
    "Injection",
    "InspectFinding",
    "InspectResult",
    "Policy",
    "PolicyVersion",
    "QuarantineAdd",
    "QuarantineList",
    "Release",
    "Retrieval",
    "RetrievedChunk",
    "UploadAccepted",
    "Verdict",
]

Verdict = Literal["allow", "redact", "block"]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Injection(_Response):
    """Whether a chunk looks like instructions aimed at the model (docs/INJECTION.md)."""

    flagged: bool
    score: float
    signals: list[str] = Field(default_factory=list)


class RetrievedChunk(_Response):
    """One chunk as the principal may see it (masked where the policy says)."""

    chunk_id: str
    doc_id: str
    text: str = Field(repr=False)
    score: float
    level: str
    masked: list[str] = Field(default_factory=list)
    injection: Injection | None = None


class Retrieval(_Response):
    """``POST /v1/retrieve``: the chunks, the signed ``retrieval_id`` for inspect,
    and ``context`` (the chunks fenced as data for a prompt) when the server sends it."""

    retrieval_id: str = Field(repr=False)
    chunks: list[RetrievedChunk]
    context: str | None = Field(default=None, repr=False)


class InspectFinding(_Response):
    """A span of the answer (offsets into it as sent); never its text."""

    type: str
    start: int
    end: int
    action: str
    reason: str


class InspectResult(_Response):
    """``POST /v1/inspect``: ``answer`` is safe to show whatever the verdict."""

    verdict: str
    answer: str = Field(repr=False)
    findings: list[InspectFinding] = Field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """True when the answer passed unchanged."""
        return self.verdict == "allow"


class Document(_Response):
    """``POST /v1/documents`` answered 201: the document is ingested."""

    doc_id: str
    chunks: int
    level: str
    injection_flagged: int | None = None
    quarantined: int | None = None


class UploadAccepted(_Response):
    """``POST /v1/documents`` answered 202: ingestion continues on the server.

    The fields of that answer are read as the server sends them.
    """

    job_id: str | None = None
    doc_id: str | None = None
    status: str | None = None


class HeldChunk(_Response):
    chunk_id: str
    score: float
    signals: list[str] = Field(default_factory=list)


class HeldDocument(_Response):
    """A document with chunks quarantined as likely injections (ids and scores, no text)."""

    tenant: str
    doc_id: str
    score: float
    signals: list[str] = Field(default_factory=list)
    chunks: list[HeldChunk] = Field(default_factory=list)


class QuarantineList(_Response):
    """``GET /v1/quarantine``."""

    documents: list[HeldDocument]


class QuarantineAdd(_Response):
    """``POST /v1/quarantine/{doc_id}``: the document's chunks now held."""

    doc_id: str
    quarantined: int


class Release(_Response):
    """``POST /v1/quarantine/{doc_id}/release``."""

    doc_id: str
    released: int


class Policy(_Response):
    """``GET``/``PUT /v1/policy`` and ``POST /v1/policy/rollback``: the policy in force.

    ``version`` is the tenant's policy version (0 = the base policy) when the
    server reports one; every other key of the policy is in ``document``.
    """

    version: int | None = None
    document: dict[str, Any] = Field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        version = data.get("version")
        return cls(version=version if isinstance(version, int) else None, document=data)


class PolicyVersion(_Response):
    """One entry of ``GET /v1/policy/versions``."""

    version: int
    fingerprint: str
    author: str | None = None
    created: str | float | None = None
