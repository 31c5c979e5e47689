"""E-mail addresses, including private and reserved domains.

Presidio's ``EmailRecognizer`` validates the domain against the public
suffix list (tldextract), so ``maria@acme.example``, ``ops@corp.internal``
or ``admin@fileserver.local`` are *not* detected: exactly the addresses of
test corpora and of many company directories. A security product must
mask them. This recognizer accepts what Presidio accepts, plus domains
whose last label is reserved (RFC 2606, RFC 6761) or commonly used inside
organisations.
"""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import EmailRecognizer

__all__ = ["PRIVATE_TLDS", "PrivateDomainEmailRecognizer"]

PRIVATE_TLDS = frozenset({
    "example", "test", "invalid", "localhost",  # RFC 2606 / RFC 6761
    "local", "internal", "corp", "lan", "home", "intranet", "private",
})


class PrivateDomainEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, also valid for private/reserved TLDs."""

    def validate_result(self, pattern_text: str) -> bool:
        domain = pattern_text.rpartition("@")[2].lower().rstrip(".")
        if "." in domain and domain.rpartition(".")[2] in PRIVATE_TLDS:
            return True
        return bool(super().validate_result(pattern_text))
