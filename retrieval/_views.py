"""Open a stored chunk and render it as one principal may see it.

Shared by the retriever (what it returns) and the inspector (what a
retrieval showed, to tell a legitimately revealed value from a leak).
"""

from __future__ import annotations

import logging
from typing import Protocol

from ragseal.classification import Finding, MaskedText, Policy, Pseudonymizer, mask
from ragseal.store import (
    DataKeyNotFound,
    Hit,
    SealedChunk,
    SealError,
    StoredChunk,
)

from ._principal import Principal

__all__ = ["ChunkView", "DataKeys", "RequestKeys", "open_hit", "render"]

log = logging.getLogger(__name__)


class DataKeys(Protocol):
    """What opening a chunk needs of a key provider."""

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes: ...


class RequestKeys:
    """The data keys ONE request opens, each read from the key provider once.

    A retrieve opens up to ``top_k`` chunks, often of a few documents; with
    the shared control plane every read is a database round trip. Made per
    request and dropped with it, so an erasure still applies to the next
    request on every replica (docs/CONTROL-PLANE.md: data keys are not cached).
    """

    def __init__(self, keys: DataKeys) -> None:
        self._keys = keys
        self._found: dict[tuple[str, str, str | None], bytes | None] = {}

    def __repr__(self) -> str:
        return f"RequestKeys(read={len(self._found)})"

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        slot = (doc_id, tenant, version)
        if slot not in self._found:
            try:
                self._found[slot] = self._keys.data_key(doc_id, tenant, version)
            except DataKeyNotFound:
                self._found[slot] = None
        key = self._found[slot]
        if key is None:
            raise DataKeyNotFound
        return key


def open_hit(
    hit: Hit, policy: Policy, keys: DataKeys
) -> tuple[StoredChunk, SealedChunk] | None:
    """Open one hit: its stored form and what its seal holds; ``None`` (and a
    log line with ids only) if it must not be served."""
    try:
        stored = StoredChunk.from_hit(hit)
        # Only the current version of a document opens: a version still
        # being ingested, or one just replaced, is dropped like any
        # unopenable chunk (docs/INGEST.md).
        key = keys.data_key(stored.doc_id, stored.tenant, version=stored.version)
        return stored, stored.open(key, policy.level_name(stored.level))
    except DataKeyNotFound:
        log.warning("chunk dropped: data key erased chunk_id=%s", hit.id,
                    extra={"chunk_id": hit.id, "event": "data_key_missing"})
    except (SealError, ValueError, IndexError):  # PayloadError, a bad plaintext; a level
        # rank outside the policy's levels (IndexError)
        log.warning(
            "chunk dropped: labels or ciphertext failed verification chunk_id=%s", hit.id,
            extra={"chunk_id": hit.id, "event": "seal_verification_failed"},
        )
    return None


class ChunkView:
    """A chunk as shown to one principal, and the pseudonyms it stands for."""

    __slots__ = ("masked", "pseudonyms")

    def __init__(self, masked: MaskedText, pseudonyms: dict[str, str]) -> None:
        self.masked = masked
        self.pseudonyms = pseudonyms

    def __repr__(self) -> str:
        return f"ChunkView(len={len(self.masked.text)}, pseudonyms={len(self.pseudonyms)})"


def render(
    sealed: SealedChunk,
    principal: Principal,
    policy: Policy,
    pseudonyms: Pseudonymizer,
    *,
    pseudonymize: bool = False,
) -> ChunkView:
    """The text ``principal`` sees of ``sealed`` (CONTRACT.md: a span is in
    clear iff its level is within clearance or a role unmasks its type).

    With ``pseudonymize`` the spans the principal may read are shown as
    keyed pseudonyms too, and the map pseudonym -> value is returned so
    that ``inspect`` can put the values back in the answer.
    """
    findings = [Finding(e, s, t, sc, "sealed") for e, s, t, sc in sealed.spans]
    entitled = {f.entity: policy.may_unmask(principal.roles, f.entity) for f in findings}
    view = mask(
        sealed.text,
        findings,
        policy,
        pseudonyms,
        principal.tenant,
        reveal=lambda f: entitled[f.entity] and not pseudonymize,
        pseudonym=lambda f: pseudonymize,
    )
    mapping: dict[str, str] = {}
    if pseudonymize:
        for f in findings:
            if entitled[f.entity]:
                value = sealed.text[f.start : f.end]
                mapping[pseudonyms.tag(principal.tenant, f.entity, value)] = value
    return ChunkView(view, mapping)
