#!/usr/bin/env python3
"""Dunwell's own lint rules: the conventions ruff cannot know (see ../shared/STYLE.md).

Zulip style: each rule is a regular expression with the files it applies to, a message that says
what to do instead, and a bad and a good example (tests/core/test_conventions.py proves that every
rule fires on its bad example and stays quiet on its good one).

Rules match code only: string literals and comments are blanked out first, and a statement that
spans several lines is matched as one logical line. A line that must break a rule says why:

    Activity.objects.filter(pk=pk).delete()  # convention: ok - GDPR erasure, see docs/decisions

Usage: python scripts/check_conventions.py [FILE ...]   (default: every .py file under src/)
Exit status 1 when anything is found, 0 when clean.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SILENCE = re.compile(r"#\s*convention:\s*ok\s*[-\u2013\u2014:]\s*\S")

# Where the clock may not be read and money must stay exact: the layers that take `as_of`.
RULES_AND_SERVICES = (
    "src/dunwell/*/rules/*",
    "src/dunwell/*/services/*",
    "src/dunwell/*/services.py",
)
FORMATS = ("src/dunwell/formats/*",)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    message: str
    bad: str
    good: str
    include: tuple[str, ...] = ("src/*",)
    exclude: tuple[str, ...] = ()

    def applies_to(self, path: str) -> bool:
        return any(fnmatch(path, glob) for glob in self.include) and not any(
            fnmatch(path, glob) for glob in self.exclude
        )


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    rule: Rule
    source: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule.name}] {self.rule.message}\n    {self.source}"


RULES: tuple[Rule, ...] = (
    Rule(
        name="no-float-field",
        pattern=re.compile(r"\bFloatField\b"),
        message="money and rates are exact: use BigIntegerField (minor units) or DecimalField",
        bad="rate = models.FloatField()",
        good="rate = models.DecimalField(max_digits=20, decimal_places=10)",
    ),
    Rule(
        name="no-float-money",
        pattern=re.compile(r"(?<![\w.])float\("),
        message="money is exact: use Decimal / Money, never float()",
        bad="share = float(amount) / 3",
        good="share = Money.split(amount, 3)",
        include=("src/dunwell/core/money*", *RULES_AND_SERVICES, *FORMATS),
    ),
    Rule(
        name="no-clock",
        pattern=re.compile(
            r"\btimezone\.(?:now|localdate)\(|\bdate\.today\(|\bdatetime\.(?:now|today|utcnow)\("
        ),
        message="time is a parameter: take `as_of` / `now` as an argument "
        "(only views, commands and tasks read the clock)",
        bad="if invoice.due_on < date.today():",
        good="if invoice.due_on < as_of:",
        include=(
            *RULES_AND_SERVICES,
            *FORMATS,
            "src/dunwell/*/queries.py",
            "src/dunwell/*/queries/*",
        ),
    ),
    Rule(
        name="no-signals",
        pattern=re.compile(r"\b(?:pre|post)_(?:save|delete)\b|@receiver\b"),
        message="no model signals: do the side effect in the service that writes",
        bad="@receiver(post_save, sender=Invoice)",
        good="transaction.on_commit(lambda: notify(invoice))",
    ),
    Rule(
        name="activity-append-only",
        pattern=re.compile(
            r"\bActivity\.objects\b.*?\.(?:update|delete|bulk_update|update_or_create)\("
        ),
        message="the history is append-only: record a correcting Activity instead",
        bad="Activity.objects.filter(item=item).update(summary='fixed')",
        good="record_correction(item=item, summary='fixed', as_of=as_of)",
        exclude=("src/dunwell/*/migrations/*",),
    ),
    Rule(
        name="english-labels",
        # a called get_<field>_display(), or Kind(value).label / Kind.MEMBER.label not in english()
        pattern=re.compile(
            r"\bget_\w+_display\(\)"
            r"|(?<!english\()\b[A-Z]\w*(?:\([^()]*\)|\.[A-Z][A-Z0-9_]*)\.label\b"
        ),
        message="choice labels follow the reader's language: in stored and machine text use "
        "core.i18n.english(obj.get_<field>_display) or english(Kind(value).label)",
        bad='summary = f"dispute opened ({dispute.get_reason_display().lower()})"',
        good='summary = f"dispute opened ({english(dispute.get_reason_display).lower()})"',
        # the staff UI and the admin speak the reader's language; documents render in theirs
        exclude=(
            "src/dunwell/web/*",
            "src/dunwell/*/templatetags/*",
            "src/dunwell/*/migrations/*",
            "src/dunwell/*/admin.py",
            "src/dunwell/core/admin_site.py",
        ),
    ),
)


def _logical_lines(text: str) -> list[tuple[int, list[str]]]:
    """Split Python source into statements: (first line number, physical lines with strings and
    comments blanked out). Falls back to plain lines if the file does not tokenize."""
    lines = text.splitlines()
    blanked = [list(line) for line in lines]
    statements: list[tuple[int, int]] = []
    try:
        start: int | None = None
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind in (tokenize.STRING, tokenize.COMMENT):
                keep = _replacement_fields(token.string) if kind == tokenize.STRING else set()
                _blank(blanked, token.start, token.end, keep)
            if kind in (tokenize.NEWLINE, tokenize.ENDMARKER):
                if start is not None:
                    statements.append((start, token.end[0]))
                start = None
            elif start is None and kind not in (
                tokenize.NL,
                tokenize.COMMENT,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                start = token.start[0]
    except (tokenize.TokenError, SyntaxError):
        return [(number, [line]) for number, line in enumerate(lines, start=1)]
    code = ["".join(chars) for chars in blanked]
    return [(first, code[first - 1 : last]) for first, last in statements]


def _replacement_fields(token: str) -> set[int]:
    """The offsets in an f-string token that are code: inside its `{...}` replacement fields
    (Python 3.11 tokenizes an f-string as one string, expressions and all)."""
    quote = min((i for i in (token.find('"'), token.find("'")) if i >= 0), default=0)
    if "f" not in token[:quote].lower():
        return set()
    code: set[int] = set()
    depth, index = 0, quote
    while index < len(token):
        char = token[index]
        if depth == 0 and char == "{" and token[index + 1 : index + 2] == "{":
            index += 2  # an escaped brace
            continue
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif depth:
            code.add(index)
        index += 1
    return code


def _blank(
    lines: list[list[str]], start: tuple[int, int], end: tuple[int, int], keep: set[int]
) -> None:
    """Blank the token from `start` to `end`, except its offsets in `keep`."""
    (row, col), (end_row, end_col) = start, end
    offset = 0  # into the token's text, which holds the newlines that `lines` do not
    while row <= end_row and row <= len(lines):
        line = lines[row - 1]
        stop = end_col if row == end_row else len(line)
        for index in range(col, min(stop, len(line))):
            if offset + index - col not in keep:
                line[index] = " "
        offset += stop - col + 1
        row, col = row + 1, 0


def check_source(path: str, text: str) -> list[Hit]:
    """Every rule broken in `text`, which is the content of `path` (relative to the repository)."""
    rules = [rule for rule in RULES if rule.applies_to(path)]
    if not rules:
        return []
    original = text.splitlines()
    hits: list[Hit] = []
    for first, code_lines in _logical_lines(text):
        physical = original[first - 1 : first - 1 + len(code_lines)]
        if any(SILENCE.search(line) for line in physical):
            continue
        joined = " ".join(code_lines)
        for rule in rules:
            for match in rule.pattern.finditer(joined):
                offset = _line_of(code_lines, match.start())
                hits.append(Hit(path, first + offset, rule, physical[offset].strip()))
    return hits


def _line_of(lines: list[str], position: int) -> int:
    """Index of the physical line that holds `position` of `" ".join(lines)`."""
    for index, line in enumerate(lines):
        if position <= len(line):
            return index
        position -= len(line) + 1
    return len(lines) - 1


def main(argv: list[str]) -> int:
    files = [Path(arg).resolve() for arg in argv] or sorted((ROOT / "src").rglob("*.py"))
    hits: list[Hit] = []
    for file in files:
        relative = file.relative_to(ROOT).as_posix() if file.is_relative_to(ROOT) else str(file)
        hits.extend(check_source(relative, file.read_text(encoding="utf-8")))
    for hit in hits:
        sys.stdout.write(f"{hit}\n")
    verdict = f"{len(hits)} problem(s)" if hits else "clean"
    sys.stdout.write(f"check_conventions: {len(files)} files, {len(RULES)} rules: {verdict}\n")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
