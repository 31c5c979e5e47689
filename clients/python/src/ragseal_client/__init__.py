"""ragseal-client: the ragseal HTTP API for chatbot backends (httpx + pydantic).

``RagsealClient`` / ``AsyncRagsealClient`` cover the contract's routes;
``ragseal_client.langchain`` and ``ragseal_client.llama_index`` (extras)
plug retrieval and inspection into those frameworks.
"""

from ._client import AsyncRagsealClient, AsyncTokenProvider, RagsealClient, TokenProvider
from ._errors import (
    AuditUnavailableError,
    AuthenticationError,
    DocumentRefusedError,
    GatewayDisabledError,
    InvalidAclError,
    InvalidPolicyError,
    InvalidRequestError,
    InvalidRetrievalIdError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RagsealConnectionError,
    RagsealError,
    RateLimitedError,
    RequestTimeoutError,
    UnavailableError,
    UnsupportedTypeError,
)
from ._models import (
    Document,
    HeldChunk,
    HeldDocument,
    Injection,
    InspectFinding,
    InspectResult,
    Policy,
    PolicyVersion,
    QuarantineAdd,
    QuarantineList,
    Release,
    Retrieval,
    RetrievedChunk,
    UploadAccepted,
)

__all__ = [
    "AsyncRagsealClient",
    "AsyncTokenProvider",
    "AuditUnavailableError",
    "AuthenticationError",
    "Document",
    "DocumentRefusedError",
    "GatewayDisabledError",
    "HeldChunk",
    "HeldDocument",
    "Injection",
    "InspectFinding",
    "InspectResult",
    "InvalidAclError",
    "InvalidPolicyError",
    "InvalidRequestError",
    "InvalidRetrievalIdError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Policy",
    "PolicyVersion",
    "QuarantineAdd",
    "QuarantineList",
    "RagsealClient",
    "RagsealConnectionError",
    "RagsealError",
    "RateLimitedError",
    "Release",
    "RequestTimeoutError",
    "Retrieval",
    "RetrievedChunk",
    "TokenProvider",
    "UnavailableError",
    "UnsupportedTypeError",
    "UploadAccepted",
]
__version__ = "0.1.0"
