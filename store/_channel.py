"""The owner channel's wire format and socket path.

While ``ragseal serve`` owns an embedded data dir (it holds the Qdrant Edge
lock), CLI commands reach the store through a unix socket the server
listens on (``store/_owner.py``, the client is ``store/_remote.py``; design
and failure cases in docs/ARCHITECTURE.md, "Working beside a running
server").

Framing is :mod:`multiprocessing.connection`'s length-prefixed messages
(``send_bytes``/``recv_bytes`` with a ``maxlength``: never ``send``/``recv``,
which pickle). Each message is one JSON object; requests are validated here
with strict pydantic models (bounded lists and strings, no extra fields)
before anything touches the engine, which then applies its own checks
(``store/_validate.py``). Points carry ciphertext and labels only; queries
cross as vectors and access filters, never as text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

__all__ = [
    "MAX_MESSAGE",
    "PROTOCOL_VERSION",
    "Request",
    "socket_path",
]

PROTOCOL_VERSION = 1
# One frame at most (both ways); upserts and reads are batched well below it.
MAX_MESSAGE = 64 * 1024 * 1024
MAX_POINTS = 512  # per upsert frame
MAX_IDS = 4096  # per retrieve/delete frame
MAX_PAGE = 512  # hits per cursor page
MAX_LIST = 100_000  # fingerprints or tags of one request
MAX_CURSORS = 32  # open cursors per connection (the oldest is dropped)

_Str = Annotated[str, StringConstraints(max_length=1024)]
_Id = Annotated[str, StringConstraints(max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WireAccess(_Model):
    tenant: _Str
    max_level: Annotated[int, Field(ge=-1, le=1_000)]
    groups: Annotated[list[_Str], Field(max_length=4096)]
    user: _Str


class WirePoint(_Model):
    id: _Id
    vector: Annotated[list[float], Field(max_length=8192)]
    payload: dict[_Str, Any]


class Hello(_Model):
    op: Literal["hello"]
    version: int
    collection: _Str
    dim: int


class Upsert(_Model):
    op: Literal["upsert"]
    points: Annotated[list[WirePoint], Field(max_length=MAX_POINTS)]


class Search(_Model):
    op: Literal["search"]
    vector: Annotated[list[float], Field(max_length=8192)]
    access: WireAccess
    limit: Annotated[int, Field(ge=0, le=10_000)]
    tags: Annotated[list[_Str], Field(max_length=MAX_LIST)] = []


class Ids(_Model):
    op: Literal["retrieve", "delete_points"]
    ids: Annotated[list[_Id], Field(max_length=MAX_IDS)]


class DocumentPoints(_Model):
    op: Literal["document_point_ids"]
    tenant: _Str
    doc_id: _Str


class Fingerprints(_Model):
    op: Literal["match_fingerprints"]
    tenant: _Str
    fingerprints: Annotated[list[_Str], Field(max_length=MAX_LIST)]


class KnownTags(_Model):
    op: Literal["known_tags"]
    tenant: _Str
    tags: Annotated[list[_Str], Field(max_length=MAX_LIST)]


class SetPayload(_Model):
    op: Literal["set_payload"]
    point_id: _Id
    payload: dict[_Str, Any]


class Scroll(_Model):
    op: Literal["scroll"]
    tenant: _Str | None = None


class Next(_Model):
    op: Literal["next"]
    cursor: Annotated[int, Field(ge=0)]
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)]


class CloseCursor(_Model):
    op: Literal["close_cursor"]
    cursor: Annotated[int, Field(ge=0)]


class Count(_Model):
    op: Literal["count"]


Request = Annotated[
    Hello | Upsert | Search | Ids | DocumentPoints | Fingerprints | KnownTags | SetPayload
    | Scroll | Next | CloseCursor | Count,
    Field(discriminator="op"),
]
REQUEST: TypeAdapter[Request] = TypeAdapter(Request)


def socket_path(data_dir: Path, collection: str) -> Path:
    """Where the owner of ``data_dir/store/<collection>`` listens."""
    return Path(data_dir) / "run" / f"store-{collection}.sock"
