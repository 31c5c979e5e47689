"""Write ``person.jsonl``: every mention of a person in ``samples/corpus``, as ragseal reads it.

    python samples/labels/build_person_labels.py          # rewrite person.jsonl
    python samples/labels/build_person_labels.py --show   # print each mention in context

The corpus is ours (fictional, ``samples/make_corpus.py``). ``PEOPLE`` was
written by reading every document (``--show`` prints each labelled mention
with its context, which is how the list was checked): the 24 people the
corpus names (one with a middle name, one by first name only: Ben in accounts
payable). Each document is loaded with ragseal's own loader (the text
ingest classifies), and every mention is labelled PERSON: the full name
(also across a line break), the first name alone, the surname alone, the
name part of a possessive (``Aisha's``). Names inside e-mail addresses are
lower case and are not mentions of a person here (they are EMAIL_ADDRESS).
One JSON line per document, ``ragseal eval`` format:
``{"text", "spans": [{"type": "PERSON", "start", "end"}], "source"}``.

    ragseal eval samples/labels/person.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "corpus"

PEOPLE = (
    "Jonas Michael Weber",  # the new-hire form's full legal name, before "Jonas Weber"
    "Aisha Patel", "Amara Osei", "Ben", "Anna Weber", "Catherine Wu", "Daniel Okafor", "Emily Carter",
    "Helen Zhao", "Jonas Weber", "Kai Schneider", "Kevin O'Brien", "Laura Brennan",
    "Lucia Fernandez", "Lukas Hoffmann", "Marcus Lee", "Maria Gonzalez", "Michael Brandt",
    "Oliver Grant", "Priya Raman", "Rachel Kim", "Robert Lindqvist", "Samuel Adeyemi", "Sofia Marino",
    "Tom Becker",
)


def mentions(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in spans)

    for full in PEOPLE:
        words = [re.escape(w) for w in full.split(" ")]
        pattern = r"(?<![\w.@])" + r"\s+".join(words) + r"(?![\w@])"
        spans += [m.span() for m in re.finditer(pattern, text) if free(*m.span())]
    for full in PEOPLE:
        for part in full.split(" "):
            for m in re.finditer(rf"(?<![\w.@']){re.escape(part)}(?![\w@])", text):
                if free(*m.span()):
                    spans.append(m.span())
    return sorted(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parents[1]))
    from ragseal.ingest import load_document

    lines = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "acl.yaml"):
        text = load_document(path).text
        found = mentions(text)
        if args.show:
            for s, e in found:
                print(f"{path.name}: {text[max(0, s - 30):s]!r} [{text[s:e]}] {text[e:e + 20]!r}")
        lines.append(json.dumps({
            "text": text,
            "spans": [{"type": "PERSON", "start": s, "end": e} for s, e in found],
            "source": str(path.relative_to(CORPUS)),
        }, ensure_ascii=False))
    (HERE / "person.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} documents, {sum(len(json.loads(x)['spans']) for x in lines)} mentions")


if __name__ == "__main__":
    main()
