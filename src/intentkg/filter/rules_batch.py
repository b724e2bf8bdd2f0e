"""The rules of :mod:`intentkg.filter.rules` over a whole Arrow batch: the same flags and details.

:class:`~intentkg.filter.rules.RuleChecker` is the definition (one row in, flags and details out);
:class:`BatchRuleChecker` gives the same answers for a batch without a Python call per row:

- texts are normalised, keyed and split into words by Arrow compute (:mod:`~intentkg.filter.text_batch`),
  once per distinct tail or source text; word-level facts (singular, stem, filler, dangling) once
  per distinct word; rows pick theirs up by index (numpy);
- too_short / too_long, incomplete, circular and empty_reason are decided in Arrow / numpy for
  every distinct tail; the per-row methods run only on the tails they may fire on, to write the
  same details (length and wording limits, a markup / ellipsis / bad ending / bracket or quote /
  dangling last word, a circular pattern in RE2 or only filler words);
- echoes compare key ids and lengths as numpy arrays; only (tail, source) pairs within the edit
  bound reach rapidfuzz's ``cpdist`` (Levenshtein in C++), once per distinct pair;
- ``supported`` (a content-word stem shared with the behaviour) is a sorted membership test
  over (source, stem) ids;
- restates_product needs a set inclusion per row: the per-row method runs only where a title's
  head noun is a word of the tail key, or the key with spaces and hyphens removed is the title's
  noun or type so joined (tested in numpy; a few percent of rows);
  copied_example runs :class:`~intentkg.filter.copies.CopyChecker` once per distinct (tail,
  shown examples) and only where the prompt showed examples; the optional echo_containment (off by
  default) once per distinct (tail, source) pair left.

What stays per distinct value in Python, and why: ``normalize`` of non-ASCII text (NFKC, Python's
lower-casing and ``\\w``: no Arrow or DuckDB function matches them), ``singular`` and the stemmer
(per word), ``title_type`` / ``head_noun`` (per distinct title), a circular pattern RE2 cannot
run exactly as Python does (one with escapes, ``.``, ``[^`` or ``(?``), and the detail texts.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from intentkg.filter.config import RulesConfig
from intentkg.filter.rules import _MARKUP, RowResult, RuleChecker, _short, joined
from intentkg.filter.text_batch import Texts, Vocab, _numpy, strip_array, texts
from intentkg.product_types import head_noun, title_type

_WHAT = {"echo_query": "the query", "echo_title": "the title", "echo_product_type": "the product type"}
_RE2_UNSAFE = re.compile(r"\\|\.|\[\^|\(\?")  # may match otherwise in RE2 than in Python
_BAD_END = r"[,:;\-(\[/&+\x{2013}\x{2014}][ .!?\"']*$"  # rules._BAD_ENDINGS after rstrip(' .!?"\'')
_STR = pa.string()
_LIST = pa.list_(pa.string())


def encode(column) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of a string column (null included) and each row's index into them."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    return encoded.dictionary, _numpy(encoded.indices).astype(np.int64)


def per_distinct(column, fn, type_=_STR) -> pa.Array:
    """``fn`` of every row's value, called once per distinct value."""
    values, index = encode(column)
    return pa.array([fn(v) for v in values.to_pylist()], type_).take(pa.array(index))


class _Slots:
    """Flags and details per rule, each for some rows; assembled per row in rule order."""

    def __init__(self, n: int):
        self.n, self.rows, self.flags, self.details = n, [], [], []

    def add(self, rows, flags, details) -> None:
        self.rows.append(np.asarray(rows, np.int64))
        self.flags.append(pa.array(flags, _STR) if not isinstance(flags, pa.Array) else flags)
        self.details.append(pa.array(details, _STR) if not isinstance(details, pa.Array) else details)

    def per_value(self, results: dict[int, RowResult], size: int, index: np.ndarray, mask: np.ndarray) -> None:
        """Rows take the (flag, detail) pairs of their distinct value (``results``: value -> result,
        ``size`` distinct values)."""
        for k in range(max((len(r.flags) for r in results.values()), default=0)):
            flags = [None] * size
            details = list(flags)
            for value, result in results.items():
                if len(result.flags) > k:
                    flags[value], details[value] = result.flags[k], result.details[k]
            flags, details = pa.array(flags, _STR), pa.array(details, _STR)
            rows = np.flatnonzero(mask & _numpy(flags.is_valid())[index])
            take = pa.array(index[rows])
            self.add(rows, flags.take(take), details.take(take))

    def assemble(self) -> tuple[pa.Array, pa.Array]:
        rows = np.concatenate(self.rows + [np.zeros(0, np.int64)])
        rule = np.concatenate([np.full(len(r), k) for k, r in enumerate(self.rows)] + [np.zeros(0, np.int64)])
        order = pa.array(np.lexsort((rule, rows)))
        offsets = np.zeros(self.n + 1, np.int32)
        np.cumsum(np.bincount(rows, minlength=self.n), out=offsets[1:])
        offsets = pa.array(offsets)
        return tuple(pa.ListArray.from_arrays(offsets, pa.concat_arrays(part or [pa.array([], _STR)]).take(order))
                     for part in (self.flags, self.details))


def _csr_members(owner_a: np.ndarray, ids_a: np.ndarray, owner_b: np.ndarray, ids_b: np.ndarray,
                 n: int) -> np.ndarray:
    """Per owner 0..n-1: does any id it holds in ``a`` appear among its ids in ``b``?"""
    width = int(max(ids_a.max(initial=0), ids_b.max(initial=0))) + 1
    table = np.sort(owner_b * width + ids_b)  # (np.unique hashes, and is far slower here)
    codes = owner_a * width + ids_a
    pos = np.minimum(np.searchsorted(table, codes), max(len(table) - 1, 0))
    hit = table[pos] == codes if len(table) else np.zeros(len(codes), bool)
    return np.bincount(owner_a[hit], minlength=n) > 0


def _expand(owner: np.ndarray, ids: np.ndarray, n_owners: int, of_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, id) for every id of the owner of every row (owner -1: none)."""
    order = np.argsort(owner, kind="stable")
    owner, ids = owner[order], ids[order]
    offsets = np.zeros(n_owners + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=n_owners), out=offsets[1:])
    safe = np.maximum(of_row, 0)
    lengths = np.where(of_row >= 0, offsets[safe + 1] - offsets[safe], 0)
    rows = np.repeat(np.arange(len(of_row)), lengths)
    starts = np.repeat(offsets[safe] - (np.cumsum(lengths) - lengths), lengths)
    return rows, ids[np.arange(int(lengths.sum())) + starts]


class BatchRuleChecker:
    """``check(table)`` gives, for every row, what ``RuleChecker.check_row`` gives for it."""

    def __init__(self, config: RulesConfig, default_shown: dict[str, list[str]] | None = None):
        self.config = config
        self.row = RuleChecker(config, default_shown)
        self.vocab = Vocab(self.row.fillers, self.row.dangling)
        self._re2 = [p for p in config.circular_patterns if not _RE2_UNSAFE.search(p)]
        self._python_only = len(self._re2) < len(config.circular_patterns)

    def check(self, table: pa.Table) -> dict[str, pa.Array]:
        """key, norm (null without a key), flags, details and supported for each row of ``table``
        (columns as :meth:`RuleChecker.check`: tail, relation, parse_status, kind, left_text,
        right_text and optionally left_type, right_type, shown_examples)."""
        if len(self.vocab) > 4_000_000:  # the word ids are kept across batches; bound them
            self.vocab.clear()
        table = plain(table)
        n, col = table.num_rows, table.column
        slots = _Slots(n)
        tail_u, tu = encode(col("tail"))
        text_u = strip_array(tail_u)
        tails = texts(text_u, self.vocab)
        has_text_u = _numpy(pc.fill_null(pc.greater(pc.utf8_length(text_u), 0), False))
        has_key_u = _numpy(tails.key.is_valid())
        has_text, has_key = has_text_u[tu], has_key_u[tu]
        kinds = col("kind")
        co_buy = _numpy(pc.fill_null(pc.equal(kinds, "co_buy"), False))
        search = _numpy(pc.fill_null(pc.equal(kinds, "search_buy"), False))

        relation_u, ru = encode(col("relation"))
        results = {}
        for i, relation in enumerate(relation_u.to_pylist()):
            results[i] = RowResult()
            self.row._relation(relation, results[i])
        slots.per_value(results, len(relation_u), ru, np.ones(n, bool))

        status_u, su = encode(col("parse_status"))
        statuses = status_u.to_pylist()
        ok = np.array([s == "ok" for s in statuses], bool)[su]
        rows = np.flatnonzero(~ok | ~has_text)
        slots.add(rows, ["parse_failed"] * len(rows), [
            f"no usable tail (parse_status={statuses[su[r]]})" if not ok[r] else "no usable tail (empty tail)"
            for r in rows])

        slots.per_value(self._before(text_u, tails, has_text_u), len(tail_u), tu, has_text)
        sources = _Sources(self, table, co_buy)
        echo = self._echo(sources, tails, tu, has_key, co_buy, search, slots)
        tail_owner, tail_stems = tails.stem_ids(self.vocab)
        rows_, ids = _expand(tail_owner, tail_stems, len(tail_u), tu)
        supported = np.zeros(n, bool)
        owner, stems_ = sources.texts.stem_ids(self.vocab)
        for src in (sources.left, sources.right):
            supported |= _csr_members(rows_, ids, *_expand(owner, stems_, len(sources.values), src), n)
        if self.config.restatement:
            self._restates(sources, text_u, tails, tu, has_key & ~echo, co_buy, kinds, slots)
        if self.config.copies:
            self._copied(table, tails, tu, has_key, supported, slots)
        slots.per_value(self._after(tails, has_text_u), len(tail_u), tu, has_text)

        flags, details = slots.assemble()
        norm_u = pc.if_else(tails.key.is_valid(), tails.norm, pa.scalar(None, _STR))
        return {"key": tails.key.take(pa.array(tu)), "norm": norm_u.take(pa.array(tu)), "flags": flags,
                "details": details, "supported": pa.array(supported, pa.bool_())}

    # -- what a tail alone decides ----------------------------------------------------------------
    def _before(self, text_u: pa.Array, tails: Texts, has_text_u: np.ndarray) -> dict[int, RowResult]:
        """too_short / too_long and incomplete, per distinct tail."""
        c = self.config
        words = tails.words.lengths()
        chars = _numpy(pc.fill_null(pc.utf8_length(text_u), 0))
        length = (words < c.min_words) | (chars < c.min_chars) | (words > c.max_words) | (chars > c.max_chars)
        text = pc.fill_null(text_u, "")
        marks = [pc.match_substring_regex(text, _MARKUP.pattern), pc.ends_with(text, "..."),
                 pc.ends_with(text, "\u2026"), pc.match_substring_regex(text, _BAD_END),
                 pc.match_substring_regex(text, r"[()\[\]{}\"]")]
        maybe = np.zeros(len(text_u), bool)
        for mark in marks:
            maybe |= _numpy(mark)
        last = tails.words.offsets[1:] - 1
        dangles = np.zeros(len(text_u), bool)
        has_words = words > 1
        dangles[has_words] = self.vocab.column("dangles")[tails.word_rows[last[has_words]]]
        maybe |= dangles
        found = {}
        norms = tails.norm
        for i in np.flatnonzero(has_text_u & (length | maybe)):
            result = found[int(i)] = RowResult()
            text_i, norm_words = text_u[int(i)].as_py(), norms[int(i)].as_py().split()
            self.row._length(text_i, norm_words, result)
            self.row._incomplete(text_i, norm_words, result)
        return found

    def _after(self, tails: Texts, has_text_u: np.ndarray) -> dict[int, RowResult]:
        """circular and empty_reason, per distinct tail."""
        words = tails.words.lengths()
        short = words <= 12
        maybe = np.zeros(len(words), bool)
        if self._python_only:
            maybe |= short
        for pattern in self._re2:
            maybe |= short & _numpy(pc.match_substring_regex(tails.norm, f"^(?:{pattern})$"))
        owner = tails.words.owner
        content = np.bincount(owner[~self.vocab.column("filler")[tails.word_rows]], minlength=len(words))
        maybe |= (words > 0) & (content == 0)
        found = {}
        for i in np.flatnonzero(has_text_u & maybe):
            result = RowResult()
            norm = tails.norm[int(i)].as_py()
            self.row._circular(norm, norm.split(), result)
            if result.flags:
                found[int(i)] = result
        return found

    # -- what depends on the behaviour ------------------------------------------------------------
    def _echo(self, sources: "_Sources", tails: Texts, tu, has_key, co_buy, search, slots: _Slots) -> np.ndarray:
        """echo_query / echo_title / echo_product_type; returns the rows that got one."""
        n, config = len(tu), self.config
        both = pc.dictionary_encode(pa.concat_arrays([tails.key, sources.texts.key]))
        ids = _numpy(both.indices.fill_null(-1)).astype(np.int64)
        key_id, src_id = np.append(ids[:len(tails.key)], -1)[tu], np.append(ids[len(tails.key):], -1)
        key_len = _numpy(pc.fill_null(pc.utf8_length(tails.key), 0))[tu]
        src_len = np.append(_numpy(pc.fill_null(pc.utf8_length(sources.texts.key), 0)), 0)
        src_allowed = np.minimum(config.echo_max_edits,
                                 np.floor(src_len * config.echo_max_edit_ratio).astype(np.int64))
        typed = (sources.left_type >= 0) | (sources.right_type >= 0)
        targets = [sources.left, sources.right,  # the source of each row per target, in the checker's order
                   np.where(typed, sources.left_type, np.where(co_buy, sources.left_title, sources.right_title)),
                   np.where(typed, sources.right_type, np.where(co_buy, sources.right_title, -1))]
        found = np.full(n, -1, np.int64)
        how = np.zeros(n, np.int64)  # 1 the same, 2 within the edits, 3 a phrase of it
        distance = np.zeros(n, np.int64)
        keys = tails.key.to_pylist()
        src_keys = sources.texts.key.to_pylist()
        for t, src in enumerate(targets):
            open_ = has_key & (found < 0) & (src >= 0) & (src_id[src] >= 0)
            equal = open_ & (key_id == src_id[src])
            allowed = src_allowed[src]
            near = np.flatnonzero(open_ & ~equal & (allowed > 0) & (np.abs(key_len - src_len[src]) <= allowed))
            within = np.zeros(n, bool)
            if len(near):
                width = len(src_keys) + 1
                pairs, inverse = np.unique(tu[near] * width + src[near], return_inverse=True)
                got = process.cpdist([keys[p // width] for p in pairs], [src_keys[p % width] for p in pairs],
                                     scorer=Levenshtein.distance, score_cutoff=int(config.echo_max_edits))
                d = np.asarray(got, np.int64).reshape(-1)[inverse.reshape(-1)]
                ok = d <= allowed[near]
                within[near[ok]] = True
                distance[near[ok]] = d[ok]
            found[equal | within] = t
            how[equal], how[within] = 1, 2
            if config.echo_containment and t < 2:
                phrase: dict[tuple[int, int], bool] = {}
                for r in np.flatnonzero(open_ & ~equal & ~within):
                    pair = (int(tu[r]), int(src[r]))
                    if pair not in phrase:
                        key = keys[pair[0]]
                        phrase[pair] = " " in key and f" {key} " in f" {src_keys[pair[1]]} "
                    if phrase[pair]:
                        found[r], how[r] = t, 3
        rows = np.flatnonzero(found >= 0)
        codes, details = [], []
        texts_ = sources.values.to_pylist()
        for r in rows:
            t = found[r]
            code = ("echo_query" if search[r] else "echo_title") if t == 0 else \
                ("echo_title" if t == 1 else "echo_product_type")
            what, short = _WHAT[code], _short(texts_[targets[t][r]])
            codes.append(code)
            details.append(f"repeats {what} {short!r}" if how[r] == 1 else
                           f"{distance[r]} edit(s) from {what} {short!r}" if how[r] == 2 else
                           f"is a phrase of {what} {short!r}")
        slots.add(rows, codes, details)
        return found >= 0

    def _restates(self, sources: "_Sources", text_u, tails: Texts, tu, eligible, co_buy, kinds, slots) -> None:
        """restates_product: the per-row rule where a title's head noun is a word of the tail's key."""
        n = len(tu)
        values = sources.values.to_pylist()
        noun_ids = np.full(len(values) + 1, -1, np.int64)  # index -1: no title
        joined_ids = np.full((len(values) + 1, 2), -2, np.int64)  # the noun and the type, joined
        joined_forms: dict[str, int] = {}
        titles = np.concatenate([sources.right[eligible], sources.left[eligible & co_buy]])
        for s in np.unique(titles[titles >= 0]):  # the head noun of the titles these rows name
            noun = head_noun(values[s])
            if noun:
                noun_ids[s] = self.vocab.id(noun)
                for j, form in enumerate((noun, joined(title_type(values[s])))):
                    joined_ids[s, j] = joined_forms.setdefault(form, len(joined_forms))
        # each distinct tail's key with spaces and hyphens removed, as an id among those forms (-1: none)
        tail_joined = pc.index_in(pc.replace_substring_regex(tails.key, r"[ \-]", ""),
                                  value_set=pa.array(list(joined_forms), _STR))
        tail_joined = _numpy(pc.fill_null(tail_joined, -1)).astype(np.int64)
        owner, ids = tails.key_ids(self.vocab)
        rows, words = _expand(owner, ids, len(tails.key), np.where(eligible, tu, -1))
        maybe = np.zeros(n, bool)
        row_joined = np.where(eligible, tail_joined[np.maximum(tu, 0)], -1)
        for src in (sources.right, np.where(co_buy, sources.left, -1)):
            noun = noun_ids[src][rows]
            hit = (noun >= 0) & (words == noun)
            maybe |= np.bincount(rows[hit], minlength=n) > 0
            maybe |= (row_joined >= 0) & ((row_joined == joined_ids[src, 0]) | (row_joined == joined_ids[src, 1]))
        candidates = np.flatnonzero(maybe)
        hits, flags, details = [], [], []
        kind_of = kinds.take(pa.array(candidates)).to_pylist()
        for r, kind in zip(candidates, kind_of):
            result = RowResult()
            left, right = (values[s] if s >= 0 else None for s in (sources.left[r], sources.right[r]))
            self.row._restates(text_u[int(tu[r])].as_py(), kind, left, right, result)
            if result.flags:
                hits.append(r)
                flags.append(result.flags[0])
                details.append(result.details[0])
        slots.add(hits, flags, details)

    def _copied(self, table, tails: Texts, tu, has_key, supported, slots) -> None:
        """copied_example: once per distinct (tail, shown examples) where the prompt showed any."""
        shown_col, joined = _exact_list_keys(table)
        list_u, lu = encode(joined)
        lists = list_u.to_pylist()
        firsts = dict(zip(*np.unique(lu, return_index=True)))
        shown = [tuple(shown_col[int(firsts[u])].as_py()) if v is not None else () for u, v in enumerate(lists)]
        relation_u, ru = encode(table.column("relation"))
        all_sets = shown + [tuple(self.row.default_shown.get(r, [])) for r in relation_u.to_pylist()]
        set_of_row = np.where(np.array([v is None for v in lists], bool)[lu], len(shown) + ru, lu)
        rows = np.flatnonzero(has_key & np.array([bool(s) for s in all_sets], bool)[set_of_row])
        if len(rows) == 0:
            return
        width = len(all_sets)
        pairs, inverse = np.unique(tu[rows] * width + set_of_row[rows], return_inverse=True)
        keys = tails.key.to_pylist()
        examples = [self.row.copies.match(keys[p // width], all_sets[p % width]) for p in pairs]
        example_of_row = [examples[i] for i in inverse.reshape(-1)]
        hit = [k for k, e in enumerate(example_of_row) if e is not None and not supported[rows[k]]]
        slots.add(rows[hit], ["copied_example"] * len(hit),
                  [f"copies the worked answer {_short(example_of_row[k])!r} its prompt showed; "
                   f"no word of it is in the behaviour" for k in hit])


class _Sources:
    """The distinct texts a batch's rows compare tails with (titles, queries, product types), keyed once;
    per row the index of each (-1: none or empty)."""

    def __init__(self, checker: BatchRuleChecker, table: pa.Table, co_buy: np.ndarray):
        index: dict[str, int] = {}
        values: list[str] = []

        def ids(texts_: list) -> np.ndarray:
            out = np.full(len(texts_), -1, np.int64)
            for i, text in enumerate(texts_):
                if text:
                    found = index.get(text)
                    if found is None:
                        found = index[text] = len(values)
                        values.append(text)
                    out[i] = found
            return out

        def column(name: str, fn=None, rows: np.ndarray | None = None) -> np.ndarray:
            if name not in table.column_names:
                return np.full(table.num_rows, -1, np.int64)
            distinct, at = encode(table.column(name))
            plain = distinct.to_pylist()
            if fn is not None:
                wanted = np.zeros(len(plain), bool)
                wanted[at[rows]] = True
                plain = [fn(v) or None if wanted[i] else None for i, v in enumerate(plain)]
            return ids(plain)[at]

        self.left, self.right = column("left_text"), column("right_text")  # "" and null: no source
        self.left_type, self.right_type = column("left_type"), column("right_type")
        untyped = np.flatnonzero((self.left_type < 0) & (self.right_type < 0))
        self.left_title = column("left_text", title_type, untyped[co_buy[untyped]])
        self.right_title = column("right_text", title_type, untyped)
        self.values = pa.array(values, _STR)
        self.texts = texts(self.values, checker.vocab)


def plain(table: pa.Table) -> pa.Table:
    """The columns the rules read as string / list<string> (an engine may hand large_string)."""
    for i, field in enumerate(table.schema):
        if field.name == "shown_examples" and field.type != _LIST:
            table = table.set_column(i, field.name, table.column(i).cast(_LIST))
        elif pa.types.is_large_string(field.type) or pa.types.is_null(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(_STR))
    return table


def _exact_list_keys(table: pa.Table) -> tuple[pa.Array | None, pa.Array]:
    """The shown_examples column and a string per row that is equal exactly when the lists are (null
    where the row has no list)."""
    if "shown_examples" not in table.column_names:
        return None, pa.nulls(table.num_rows, _STR)
    shown = table.column("shown_examples")
    if isinstance(shown, pa.ChunkedArray):
        shown = shown.combine_chunks()
    values = pc.replace_substring(pc.replace_substring(shown.values, "\\", "\\\\"), "\x1f", "\\s")
    values = pc.fill_null(values, "\\n")  # a null example: a string no escaped example can be
    joined = pc.binary_join(pa.ListArray.from_arrays(shown.offsets, values), "\x1f")
    counted = pc.binary_join_element_wise(pc.cast(pc.list_value_length(shown), _STR), joined, ":")
    return shown, pc.if_else(shown.is_null(), pa.scalar(None, _STR), counted)
