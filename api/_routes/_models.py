"""The request and response models of the routes (the OpenAPI schema's components).

:class:`RetrieveRequest` carries the contract's defaults;
:func:`retrieve_request` makes the one an app uses from its settings
(``RAGSEAL_MAX_QUERY_CHARS``), so the schema and the 422 name the limit in force.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    create_model,
    field_validator,
)

from .._settings import TOP_K_LIMIT, Settings

__all__ = [
    "DocumentOut",
    "ERROR_RESPONSES",
    "ErrorOut",
    "InspectRequest",
    "InspectResponse",
    "QuarantineAddOut",
    "QuarantineOut",
    "ReleaseOut",
    "RetrieveRequest",
    "RetrieveResponse",
    "RollbackRequest",
    "retrieve_request",
]

# The default of RAGSEAL_MAX_QUERY_CHARS, read from the settings model (no environment).
_DEFAULT_MAX_QUERY_CHARS: int = Settings.model_fields["max_query_chars"].default


def _query_field(max_chars: int) -> Any:
    # The schema says what the validator below enforces (at least one non-space
    # character), so clients and fuzzers know a blank query is refused.
    return Field(min_length=1, max_length=max_chars, json_schema_extra={"pattern": r"\S"})


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = _query_field(_DEFAULT_MAX_QUERY_CHARS)
    top_k: int = Field(default=5, ge=1, le=TOP_K_LIMIT)
    pseudonymize: StrictBool = Field(
        default=False,
        description="Show even the values this principal may read as keyed pseudonyms; "
                    "/v1/inspect puts them back in the answer.")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Whitespace embeds to an arbitrary vector: five arbitrary chunks, not an answer.
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return value

    @field_validator("top_k", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        # JSON Schema's "integer" takes 7 and 7.0 but never true or "7", which
        # pydantic's lax mode would coerce (found by schemathesis).
        if isinstance(value, bool | str):
            raise ValueError("must be an integer")
        return value


class InjectionOut(BaseModel):
    flagged: bool
    score: float
    signals: list[str]


class RetrievedChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    text: str
    score: float
    level: str
    masked: list[str]
    injection: InjectionOut


class RetrieveResponse(BaseModel):
    retrieval_id: str
    chunks: list[RetrievedChunkOut]
    context: str = Field(description="The chunks fenced with a per-request random delimiter "
                                     "and their provenance, ready for a prompt (docs/INJECTION.md)")
    notice: str | None = Field(
        default=None,
        description='"tenant_has_no_documents" when no chunk came back and the caller\'s own '
                    "tenant holds no document at all (a wrong or missing tenant claim); "
                    "absent otherwise")


class HeldChunkOut(BaseModel):
    chunk_id: str
    score: float
    signals: list[str]


class HeldDocumentOut(BaseModel):
    tenant: str
    doc_id: str
    score: float
    signals: list[str]
    chunks: list[HeldChunkOut]


class QuarantineOut(BaseModel):
    documents: list[HeldDocumentOut]


class ReleaseOut(BaseModel):
    doc_id: str
    released: int


class InspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str = Field(max_length=100_000)
    retrieval_id: str | None = Field(default=None, max_length=20_000)


class InspectFindingOut(BaseModel):
    type: str
    start: int
    end: int
    action: str
    reason: str


class InspectResponse(BaseModel):
    verdict: str
    answer: str
    findings: list[InspectFindingOut]


class DocumentOut(BaseModel):
    doc_id: str
    chunks: int
    level: str
    injection_flagged: int = Field(description="chunks flagged as injected instructions")
    quarantined: int = Field(description="chunks held for a steward (GET /v1/quarantine)")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


# Every route may answer with the one error body (CONTRACT.md); documented once so
# the OpenAPI schema tells clients (and schemathesis) the truth. No 500: there is none.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (400, "Malformed request body"), (401, "Missing or invalid bearer token"),
        (403, "Not allowed"), (404, "Not found"),
        (413, "Request too large"), (422, "Invalid input"), (429, "Rate limited"),
        (503, "Timed out or unavailable"),
    ]
}


class QuarantineAddOut(BaseModel):
    doc_id: str
    quarantined: int


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: StrictInt


def retrieve_request(settings: Settings) -> type[RetrieveRequest]:
    """The retrieve body of an app: the query bounded by ``RAGSEAL_MAX_QUERY_CHARS``."""
    if settings.max_query_chars == _DEFAULT_MAX_QUERY_CHARS:
        return RetrieveRequest
    model: type[RetrieveRequest] = create_model(
        "RetrieveRequest", __base__=RetrieveRequest,
        query=(str, _query_field(settings.max_query_chars)))
    return model
