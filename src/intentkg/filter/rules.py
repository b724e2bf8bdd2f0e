"""Per-row rule filters. Each rule that fires adds a reason code and a readable detail; nothing is dropped here.

Reason codes (docs/filter.md lists them with examples):

    parse_failed        the generator's parser found no usable tail (parse_status != ok, or empty)
    too_short, too_long word / character limits
    incomplete          ends in a dangling word or punctuation, unbalanced brackets or quotes, "...",
                        or holds a model control token such as <start_of_image>
    echo_query, echo_title, echo_product_type
                        the tail repeats its source (exactly, or within a small edit distance); the
                        product type is the catalogue's, else the one taken from the title
    restates_product    the tail names the product itself ("leather dog collars" for a dog collar):
                        every content word is in the title or query, and the title's type noun is one;
                        or the tail is the title's type or type noun written as one word or as two
                        ("a table cloth" for a Tablecloth, "tablecloths" for a Table Cloth)
    copied_example      the tail copies a worked answer its prompt showed (copies.py) and shares no
                        content word with the behaviour
    circular            a reason that restates the purchase ("because they like it")
    empty_reason        nothing but filler words ("to use it together")
    malformed_relation  the relation is not an identifier or not a known relation

Rules are pure per batch: ``RuleChecker(config).check(rows)`` -> flags, details and the normalised tail key
used by the generic-tail counts and dedup. This is the definition, a row at a time; the filter stage
runs :class:`intentkg.filter.rules_batch.BatchRuleChecker`, which gives the same answers for a whole
batch without a Python call per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from intentkg.filter.config import RulesConfig
from intentkg.filter.copies import CopyChecker, stems, supported
from intentkg.filter.text import core, normalize
from intentkg.product_types import head_noun, title_type

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_BAD_ENDINGS = (",", ":", ";", "-", "(", "[", "/", "&", "+", "\u2013", "\u2014")
_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))
_MARKUP = re.compile(r"<\|?/?[a-z][a-z0-9_]*\|?>")  # <start_of_image>, <eos>, <|im_end|>


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass
class RowResult:
    flags: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    key: str | None = None  # normalised tail (core form) for grouping; None when there is no tail
    norm: str | None = None  # the tail normalised (lower case, no punctuation), before the core form

    def add(self, flag: str, detail: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
            self.details.append(detail)


class RuleChecker:
    def __init__(self, config: RulesConfig, default_shown: dict[str, list[str]] | None = None):
        """``default_shown``: relation -> worked answers a prompt showed when the candidate does not
        record them (candidates generated before ``shown_examples`` existed)."""
        self.config = config
        self.copies = CopyChecker(config.copy_max_edit_ratio, config.copy_max_extra_words)
        self.default_shown = default_shown or {}
        self.dangling = frozenset(w.lower() for w in config.dangling_words)
        self.fillers = frozenset(w.lower() for w in config.filler_words)
        self.circular = [re.compile(p) for p in config.circular_patterns]
        self.relations = (None if config.relations is None
                          else frozenset(config.relations) | frozenset(config.extra_relations))
        self._source_keys: dict[str, str] = {}  # titles and queries repeat across rows: normalise once

    def _source_key(self, source: str) -> str:
        key = self._source_keys.get(source)
        if key is None:
            if len(self._source_keys) >= 200_000:
                self._source_keys.clear()
            key = self._source_keys[source] = core(normalize(source))
        return key

    # -- one row ------------------------------------------------------------------------------
    def check_row(self, tail: str | None, relation: str, parse_status: str, kind: str,
                  left_text: str | None, right_text: str | None,
                  product_types: tuple[str | None, ...] = (), shown: list[str] | None = None) -> RowResult:
        result = RowResult()
        self._relation(relation, result)
        text = (tail or "").strip()
        if parse_status != "ok" or not text:
            why = f"parse_status={parse_status}" if parse_status != "ok" else "empty tail"
            result.add("parse_failed", f"no usable tail ({why})")
            if not text:
                return result
        norm = normalize(text)
        result.norm = norm or None
        result.key = core(norm) if norm else None
        words = norm.split()
        self._length(text, words, result)
        self._incomplete(text, words, result)
        if result.key:
            if not any(product_types):  # no catalogue type: the one the titles name
                titles = (left_text, right_text) if kind == "co_buy" else (right_text,)
                product_types = tuple(title_type(t) or None for t in titles)
            self._echo(result.key, kind, left_text, right_text, product_types, result)
            if self.config.restatement and not any(f.startswith("echo_") for f in result.flags):
                self._restates(text, kind, left_text, right_text, result)
            if self.config.copies:
                self._copied(result.key, text, relation, shown, left_text, right_text, result)
        self._circular(norm, words, result)
        return result

    def _restates(self, tail: str, kind: str, left_text: str | None, right_text: str | None,
                  result: RowResult) -> None:
        words = stems(tail)
        if not words:
            return
        titles = [t for t in ((left_text, right_text) if kind == "co_buy" else (right_text,)) if t]
        sources = stems(" ".join(t for t in (left_text, right_text) if t))
        key = core(normalize(tail))
        singular_words = set(key.split())
        for title in titles:
            noun = head_noun(title)
            if noun and ((words <= sources and noun in singular_words)
                         or joined(key) in (noun, joined(title_type(title)))):
                result.add("restates_product", f"names the product itself ({title_type(title)!r}), "
                                               f"not something about it")
                return

    def _copied(self, key: str, tail: str, relation: str, shown: list[str] | None,
                left_text: str | None, right_text: str | None, result: RowResult) -> None:
        shown = shown if shown is not None else self.default_shown.get(relation, [])
        example = self.copies.match(key, shown)
        if example is not None and not supported(tail, left_text, right_text):
            result.add("copied_example", f"copies the worked answer {_short(example)!r} its prompt showed; "
                                         f"no word of it is in the behaviour")

    def _relation(self, relation: str, result: RowResult) -> None:
        if not relation or not _IDENTIFIER.match(relation):
            result.add("malformed_relation", f"relation {_short(relation or '')!r} is not a name like used_for_event")
        elif self.relations is not None and relation not in self.relations:
            result.add("malformed_relation",
                       f"relation {relation!r} is not a known relation (add it to rules.extra_relations)")

    def _length(self, text: str, words: list[str], result: RowResult) -> None:
        c = self.config
        if len(words) < c.min_words or len(text) < c.min_chars:
            result.add("too_short", f"{len(words)} words, {len(text)} characters "
                                    f"(minimum {c.min_words} words, {c.min_chars} characters)")
        elif len(words) > c.max_words or len(text) > c.max_chars:
            result.add("too_long", f"{len(words)} words, {len(text)} characters "
                                   f"(maximum {c.max_words} words, {c.max_chars} characters)")

    def _incomplete(self, text: str, words: list[str], result: RowResult) -> None:
        stripped = text.rstrip(" .!?\"'")
        markup = _MARKUP.search(text)
        if markup:  # a small model's control token leaked into the answer ("play in the sea<start_of_image>")
            result.add("incomplete", f"contains the model's markup {markup.group(0)!r}")
        elif text.endswith(("...", "\u2026")):
            result.add("incomplete", "ends with an ellipsis")
        elif stripped.endswith(_BAD_ENDINGS):
            result.add("incomplete", f"ends with {stripped[-1]!r}")
        elif words and words[-1] in self.dangling and len(words) > 1:
            result.add("incomplete", f"ends with the word {words[-1]!r}")
        else:
            for opening, closing in _PAIRS:
                if text.count(opening) != text.count(closing):
                    result.add("incomplete", f"unbalanced {opening}{closing}")
                    return
            if text.count('"') % 2:
                result.add("incomplete", "unbalanced quote")

    def _echo(self, key: str, kind: str, left_text: str | None, right_text: str | None,
              product_types: tuple[str | None, ...], result: RowResult) -> None:
        left_code = "echo_query" if kind == "search_buy" else "echo_title"
        targets = [(left_code, left_text), ("echo_title", right_text)]
        targets += [("echo_product_type", t) for t in product_types]
        for code, source in targets:
            if not source:
                continue
            source_key = self._source_key(source)
            if not source_key:
                continue
            what = {"echo_query": "the query", "echo_title": "the title",
                    "echo_product_type": "the product type"}[code]
            if key == source_key:
                result.add(code, f"repeats {what} {_short(source)!r}")
                return
            allowed = min(self.config.echo_max_edits, int(len(source_key) * self.config.echo_max_edit_ratio))
            if allowed and abs(len(key) - len(source_key)) <= allowed:
                distance = Levenshtein.distance(key, source_key, score_cutoff=allowed)
                if distance <= allowed:
                    result.add(code, f"{distance} edit(s) from {what} {_short(source)!r}")
                    return
            if (self.config.echo_containment and code != "echo_product_type" and " " in key
                    and f" {key} " in f" {source_key} "):
                result.add(code, f"is a phrase of {what} {_short(source)!r}")
                return

    def _circular(self, norm: str, words: list[str], result: RowResult) -> None:
        if len(words) <= 12:  # the patterns match whole short phrases only
            for pattern in self.circular:
                if pattern.fullmatch(norm):
                    result.add("circular", f"{_short(norm)!r} restates the purchase instead of a reason")
                    return
        if words and all(w in self.fillers for w in words):
            result.add("empty_reason", f"{_short(norm)!r} has no content word")

    # -- a batch ------------------------------------------------------------------------------
    def check(self, columns: dict[str, list]) -> list[RowResult]:
        """Check a batch given as lists: tail, relation, parse_status, kind, left_text, right_text,
        and optionally left_type, right_type (product types of the two products) and
        shown_examples (the worked answers each row's prompt showed)."""
        n = len(columns["tail"])
        left_types = columns.get("left_type") or [None] * n
        right_types = columns.get("right_type") or [None] * n
        shown = columns.get("shown_examples") or [None] * n
        return [
            self.check_row(columns["tail"][i], columns["relation"][i], columns["parse_status"][i],
                           columns["kind"][i], columns["left_text"][i], columns["right_text"][i],
                           (left_types[i], right_types[i]), shown[i])
            for i in range(n)
        ]


def joined(key: str) -> str:
    """A key with its spaces and hyphens removed: "table cloth", "table-cloth" and "tablecloth" meet."""
    return key.replace(" ", "").replace("-", "")
