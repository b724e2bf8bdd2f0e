"""Turn one raw model answer into list items (tails), defensively.

The model's text is untrusted: it may be a clean numbered list, a list cut off by the token limit,
items run together on one line, a sentence with no list at all, junk, or nothing. ``parse_answer``
never raises and always returns at least one item:

- ``ok``          a complete item
- ``truncated``   the last item of an answer that hit the token limit (or an over-long item)
- ``empty``       the model returned nothing (tail is None)
- ``unparseable`` there was text but no item could be read from it (tail is None)

Every tail is a contiguous span of the text the model produced (whitespace runs collapsed), and
its ``start``/``end`` offsets point into the raw output, so token log-probs can be attached to it.
Completion prompts end with a primer such as ``"1."`` that the model continues; pass it as
``primer`` and it is read as the start of the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_MARKER = re.compile(r"[ \t]*(?:\(?(\d{1,3})[ \t]*[.):\]]|[-*\u2022\u00b7\u2023\u25e6])(?=\s|$)[ \t]*")
_INLINE_MARKER = re.compile(r"(?<=\s)\(?(\d{1,3})[.)](?=\s)")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_STRIP_LEFT = " \t*_#>-"
_STRIP_RIGHT = " \t*_.,;:!?-"
_QUOTES = {'"': '"', "'": "'", "`": "`", "\u201c": "\u201d", "\u2018": "\u2019", "(": ")", "[": "]", "<": ">"}
MAX_ITEMS = 10
MAX_TAIL_CHARS = 200
MAX_RUNON_WORDS = 25


@dataclass(frozen=True)
class Item:
    position: int  # 1-based place in the answer; 0 for the single row of an empty/unparseable answer
    tail: str | None
    status: str  # ok | truncated | empty | unparseable
    start: int | None = None  # tail span in the raw output (not counting the primer)
    end: int | None = None


def parse_answer(raw: object, primer: str = "", finish_reason: str | None = None, cue: str = "",
                 max_items: int = MAX_ITEMS) -> list[Item]:
    """Items of one answer; never raises (a parser bug yields one ``unparseable`` row)."""
    try:
        return _parse(raw, primer or "", finish_reason, cue or "", max(1, max_items))
    except Exception:  # defensive: untrusted text must never stop a run
        return [Item(0, None, "unparseable")]


def _parse(raw: object, primer: str, finish_reason: str | None, cue: str, max_items: int) -> list[Item]:
    raw_text = "" if raw is None else raw if isinstance(raw, str) else str(raw)
    if not raw_text.strip():
        return [Item(0, None, "empty")]
    text = primer + raw_text
    shift = len(primer)
    spans, marked = _list_spans(text, max_items)
    if not marked:
        spans = _run_on(text, shift)
    items: list[Item] = []
    length_cut = finish_reason == "length"
    for n, (start, end) in enumerate(spans):
        cleaned = _clean(text, start, end, cue)
        if cleaned is None:
            continue
        s, e = cleaned
        status = "ok"
        if e - s > MAX_TAIL_CHARS:
            cut = text.rfind(" ", s, s + MAX_TAIL_CHARS)
            e = cut if cut > s else s + MAX_TAIL_CHARS
            status = "truncated"
        if length_cut and n == len(spans) - 1 and not text[end:].strip("\r\n\t ") and not text.endswith("\n"):
            status = "truncated"
        tail = " ".join(text[s:e].split())
        items.append(Item(len(items) + 1, tail, status, max(s - shift, 0), max(e - shift, 0)))
        if len(items) >= max_items:
            break
    if items:
        return items
    return [Item(0, None, "truncated" if length_cut and marked else "unparseable")]


def _list_spans(text: str, max_items: int) -> tuple[list[tuple[int, int]], bool]:
    """Spans of list items in ``text``; the flag says whether any list marker was seen."""
    spans: list[tuple[int, int]] = []
    marked = False
    position = 0
    for line in text.splitlines(keepends=True):
        line_start, position = position, position + len(line)
        body_end = line_start + len(line.rstrip("\r\n"))
        match = _LINE_MARKER.match(text, line_start, body_end)
        if match:
            marked = True
            number = int(match.group(1)) if match.group(1) else 1
            spans.extend(_split_inline(text, match.end(), body_end, number))
            if len(spans) >= 4 * max_items:
                break
        elif marked:
            break  # a blank line or other text after the list ends it
    return spans, marked


def _split_inline(text: str, start: int, end: int, number: int) -> list[tuple[int, int]]:
    """Split "a 2. b 3. c" into items when the inline numbers continue the line's numbering."""
    pieces, cursor, expected = [], start, number + 1
    for match in _INLINE_MARKER.finditer(text, start, end):
        if int(match.group(1)) == expected:
            pieces.append((cursor, match.start()))
            cursor, expected = match.end(), expected + 1
    pieces.append((cursor, end))
    return pieces


def _run_on(text: str, shift: int) -> list[tuple[int, int]]:
    """No list at all: the first sentence of the first non-blank line, if it is short enough."""
    position = shift
    for line in text[shift:].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.strip():
            sentence = _SENTENCE_END.search(body)
            stop = sentence.start() if sentence else len(body)
            if 1 <= len(body[:stop].split()) <= MAX_RUNON_WORDS:
                return [(position, position + stop)]
            return []
        position += len(line)
    return []


def _clean(text: str, start: int, end: int, cue: str) -> tuple[int, int] | None:
    """Shrink a span to the tail proper: no quotes, markup, trailing punctuation or echoed cue."""
    for _ in range(4):  # markup, trailing punctuation and wrapping quotes, possibly nested
        while start < end and text[start] in _STRIP_LEFT:
            start += 1
        while end > start and text[end - 1] in _STRIP_RIGHT:
            end -= 1
        if end - start >= 2 and _QUOTES.get(text[start]) == text[end - 1]:
            start, end = start + 1, end - 1
        else:
            break
    if cue:
        body = text[start:end]
        lowered = " ".join(body.split()).lower()
        wanted = " ".join(cue.split()).lower()
        if wanted and lowered.startswith(wanted + " "):
            words = len(wanted.split())
            match = re.match(r"\s*(?:\S+\s+){%d}" % words, body)
            if match:
                start += match.end()
    while start < end and text[start] in _STRIP_LEFT:
        start += 1
    if start >= end or not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end
