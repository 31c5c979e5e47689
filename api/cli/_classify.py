"""``ragseal classify`` and ``eval``: what would be detected, and how well."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import command_services, echo_json, load_settings
from ._errors import fail

__all__ = ["classify", "eval_"]

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ragseal.classification import Finding, Policy
    from rich.text import Text


# -- classify -----------------------------------------------------------------
@click.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Policy to classify with (default: RAGSEAL_POLICY, else the bundled one): "
                   "preview a policy before deploying it.")
def classify(path: str, as_json: bool, policy_file: Path | None) -> None:
    """Preview what would be detected in a file (or - for stdin). Stores nothing.

    The terminal view prints the text with each finding highlighted in its
    level's colour and tagged [TYPE score level], a table of the findings,
    and the level the document would get from its content (markers and
    gating entities). --json prints {"level", "findings": [{"type", "start",
    "end", "score", "level"}]}, offsets into the text as read: the extracted
    text of a file, or stdin as given.

    \b
    Examples:
      ragseal classify samples/corpus/hr/employee-roster-2026-q4.txt
      echo "mail jane@example.com" | ragseal classify - --json
      ragseal classify report.pdf --policy new-policy.yaml
    """
    from ragseal.ingest import LoadError, load_document

    if path == "-":
        text = sys.stdin.read()
        if not text.strip():
            fail("no text to classify on stdin")
    else:
        try:
            text = load_document(Path(path)).text
        except LoadError as exc:
            fail(f"{path}: {exc}")
    if policy_file is not None:
        from ragseal.classification import Classifier, DetectorError, load_policy

        policy = load_policy(policy_file)  # PolicyError: one line, exit 2 (see main)
        try:
            classifier = Classifier(policy)
            classifier.warm_up()
        except DetectorError as exc:
            fail(f"policy: {exc}")
        result = classifier.classify(text)
    else:
        with command_services(store=False) as services:
            policy = services.policy
            result = services.classifier.classify(text)
    rank = result.level(policy)
    findings = [
        {**f.as_dict(), "level": policy.entity_rule(f.entity).level} for f in result.findings
    ]
    if as_json:
        echo_json({"level": policy.level_name(rank), "findings": findings})
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(_highlighted(text, result.findings, policy), soft_wrap=True)
    table = Table("type", "start", "end", "score", "level", title="Findings")
    for item in findings:
        table.add_row(str(item["type"]), str(item["start"]), str(item["end"]),
                      f"{item['score']:.2f}", str(item["level"]),
                      style=_level_style(policy, str(item["level"])))
    console.print(table)
    console.print(f"document level from content: [bold]{policy.level_name(rank)}[/]")
    console.print(_level_reason(policy, result.findings, rank), markup=False, highlight=False)


def _level_reason(policy: Policy, findings: Sequence[Finding], rank: int) -> str:
    """Why the level is what it is: only markers and ``gate: true`` entities raise it."""
    above = sorted({f.entity for f in findings
                    if not policy.entity_rule(f.entity).gate
                    and policy.rank(policy.entity_rule(f.entity).level) > rank})
    text = ("(raised only by markers and by entities with gate: true; the manifest's level "
            "is the floor at ingest")
    if above:
        text += (f"; {', '.join(above)} stay masked for readers below their level but do not "
                 "raise it")
    return text + ")"


_LEVEL_STYLES = ("green", "cyan", "yellow", "magenta", "red")


def _level_style(policy: Policy, level: str) -> str:
    """A colour per level, lowest green to highest red, whatever the number of levels."""
    top = max(len(policy.levels) - 1, 1)
    return _LEVEL_STYLES[round(policy.rank(level) * (len(_LEVEL_STYLES) - 1) / top)]


def _highlighted(text: str, findings: Sequence[Finding], policy: Policy) -> Text:
    """The text with each finding styled in its level's colour and tagged after it.

    Built with ``Text.append``: document text is never parsed as rich markup.
    """
    from rich.text import Text

    out = Text()
    cursor = 0
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if f.start < cursor:
            continue  # findings never overlap; guard anyway
        level = policy.entity_rule(f.entity).level
        style = _level_style(policy, level)
        out.append(text[cursor:f.start])
        out.append(text[f.start:f.end], style=f"bold reverse {style}")
        out.append(f"[{f.entity} {f.score:.2f} {level}]", style=f"dim {style}")
        cursor = f.end
    out.append(text[cursor:])
    return out


# -- eval -------------------------------------------------------------------
@click.command("eval")
@click.argument("labeled", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (with offsets).")
@click.option("--predictions", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write our spans: one JSON line per sample, "
                   '{"spans": [{"type", "start", "end", "score"}]}.')
@click.option("--map", "maps", multiple=True, metavar="GOLD=OURS",
              help="Score gold type GOLD as our type OURS (repeatable); GOLD= skips it.")
@click.option("--match", "scheme", default="overlap", show_default=True,
              type=click.Choice(["overlap", "exact", "token"]), help="Matching scheme.")
@click.option("--iou", default=0.5, show_default=True, type=click.FloatRange(0.01, 1.0),
              help="Minimum character IoU for --match overlap.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Policy to detect with (default: RAGSEAL_POLICY, else the bundled one).")
@click.option("--misses", "max_misses", default=5, show_default=True,
              type=click.IntRange(0, 1000), help="Worst misses to list per gold type.")
def eval_(labeled: Path, as_json: bool, predictions: Path | None, maps: tuple[str, ...],
          scheme: str, iou: float, policy_file: Path | None, max_misses: int) -> None:
    """Detection quality on a labelled corpus: precision, recall, F2 per type.

    LABELED is JSON lines {"text": str, "spans": [{"type", "start", "end"}]}
    (blank lines skipped). All lines are classified in one process, in
    batches, under the policy. Gold types are scored as ours when the policy
    detects a type of that name or --map names one; other gold types are
    listed as not evaluated, and predictions of types no evaluated gold type
    maps to are ignored.

    \b
    Matching (--match):
      overlap  span level, like presidio-research's SpanEvaluator: spans are
               trimmed of edge whitespace/punctuation; same type and character
               IoU >= --iou (0.5), one-to-one, best IoU first (default)
      exact    span level, same type and same trimmed start and end
      token    token level (words and punctuation): each token counts once,
               TP if gold and predicted types agree, else FP and/or FN
    F2 weighs recall twice as much as precision. "pii" is the same figure
    ignoring types. Missed text is shown in the terminal view only; --json
    gives offsets (sample number, start, end).

    \b
    Examples:
      ragseal eval labeled.jsonl --map GPE=LOCATION --map STREET_ADDRESS=LOCATION
      ragseal eval labeled.jsonl --json --predictions ours.jsonl --match exact
    """
    from ragseal.classification import (
        Classifier,
        DetectorError,
        EvalInputError,
        evaluate,
        parse_labeled,
        parse_mapping,
    )
    from ragseal.classification import predict as predict_spans

    try:
        mapping = parse_mapping(maps)
        with labeled.open(encoding="utf-8") as fh:
            samples = parse_labeled(fh)
    except EvalInputError as exc:
        fail(f"{labeled.name}: {exc}" if str(exc).startswith("line") else str(exc))
    except UnicodeDecodeError:
        fail(f"{labeled.name}: not UTF-8 text")
    from .._policies import base_policy

    pol = base_policy(policy_file if policy_file is not None else load_settings().policy)
    known = set(pol.entity_rules)
    unknown = sorted({t for t in mapping.values() if t and t not in known})
    if unknown:
        fail(f"--map: the policy does not detect {', '.join(unknown)}")
    try:
        predicted = predict_spans(Classifier(pol), [s.text for s in samples])
    except DetectorError as exc:
        fail(f"policy: {exc}")
    if predictions is not None:
        # One line per input line (CONTRACT.md): a blank input line gets no spans.
        by_line = {s.line: spans for s, spans in zip(samples, predicted, strict=True)}
        with predictions.open("w", encoding="utf-8") as out:
            for n in range(1, max(by_line, default=0) + 1):
                spans = by_line.get(n, [])
                out.write(json.dumps({"spans": [s.as_dict() for s in spans]}) + "\n")
    report = evaluate(samples, predicted, mapping=mapping, known_types=known,
                      scheme=scheme, iou=iou)
    if as_json:
        echo_json(report.as_dict(max_misses=max_misses))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    console = Console()
    title = f"{len(samples)} samples, match {scheme}" + (f" (IoU >= {iou})"
                                                         if scheme == "overlap" else "")
    table = Table("type", "tp", "fp", "fn", "precision", "recall", "F2", title=title)
    rows = [*sorted(report.per_type.items()), ("overall", report.overall), ("pii", report.pii)]
    for name, c in rows:
        table.add_row(name, str(c.tp), str(c.fp), str(c.fn), pct(c.precision), pct(c.recall),
                      pct(c.f2), style="bold" if name in ("overall", "pii") else None)
    console.print(table)
    if report.not_evaluated:
        console.print("not evaluated (gold type: spans): " + ", ".join(
            f"{t}: {n}" for t, n in sorted(report.not_evaluated.items())), markup=False)
    for gold_type, misses in sorted(report.misses.items()):
        if not misses or not max_misses:
            continue
        console.print(f"worst misses, {gold_type}:", markup=False)
        for m in misses[:max_misses]:
            snippet = samples[m.sample - 1].text[m.start:m.end].replace("\n", " ")
            line = Text(f"  line {m.line or m.sample} [{m.reason}] ")
            line.append(snippet[:80], style="bold")
            console.print(line)
