"""The one keyed hash: its output is pinned, because every stored id, tag,
pseudonym, fingerprint and audit seal is made of it."""

from __future__ import annotations

import hashlib
import hmac

from ragseal.classification import Pseudonymizer
from ragseal.store import Fingerprinter, IdHasher

from ragseal._keyed import keyed_digest

KEY = bytes(range(32))


def test_when_parts_are_hashed_then_it_is_hmac_sha256_of_the_parts_joined_by_nul() -> None:
    expected = hmac.new(KEY, b"doc\x00acme\x00hr/a.txt", hashlib.sha256).digest()
    assert keyed_digest(KEY, "doc", "acme", "hr/a.txt") == expected
    assert keyed_digest(KEY, "ab", "c") != keyed_digest(KEY, "a", "bc")


def test_when_ids_tags_and_fingerprints_are_made_then_they_are_those_stores_already_hold() -> None:
    # Values computed before the four HMAC copies became one (commit 545a5ad).
    ids = IdHasher(KEY)
    assert ids.doc_id("acme", "hr/a.txt") == "6f363592c7338ffa9559fe577f02bd32"
    assert ids.chunk_id("d\x00v", 0) == "6916a08e-2bbc-4fff-9acf-9df886054f4d"
    assert ids.keyed_hash("query", "q") == "3223400b1e048caa"
    pseudonyms = Pseudonymizer(KEY)
    assert pseudonyms.tag("acme", "PERSON", "Maria Gonzalez") == "<PERSON_e70cfc>"
    assert pseudonyms.search_tag("acme", "PERSON", "Maria Gonzalez") == "5b4b0e3f9b8277a8294b8e62"
    assert Fingerprinter(KEY).fingerprints(
        "acme", "the quarterly payroll run is due on friday") == [
        "drjbnoqyuwddks", "futkloolwnseca", "gnvdpeunloapcl"]
