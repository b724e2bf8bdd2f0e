"""The filter's text normalisation over Arrow arrays: :func:`~intentkg.text.normalize`,
:func:`~intentkg.filter.text.core` and :func:`~intentkg.filter.copies.stems`, value for value.

``normalize`` is NFKC, Python's full lower-casing and Python's Unicode ``\\w``; Arrow (and DuckDB)
implement none of them as Python does outside ASCII. For an ASCII string all three are plain
(NFKC changes nothing, lower-casing is A-Z, ``\\w`` is [A-Za-z0-9_]), so ASCII strings go through
Arrow compute and only the others through the Python function, once per distinct string.

Everything after ``normalize`` works on its output — words of [\\w]+ joined by single spaces — and
is exact for any script: the leading-filler regular expression (:data:`intentkg.filter.text._LEADING_FILLER`,
ASCII words and ``\\s+`` that only ever meet a space here) runs in RE2 with the same leftmost-first
preference as Python's; ``singular`` and the stemmer run once per distinct *word* (:class:`Vocab`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from intentkg.filter.copies import STOP_WORDS, _stem
from intentkg.filter.text import _LEADING_FILLER, singular
from intentkg.text import normalize

PY_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what str.strip() removes within ASCII


def _numpy(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _python_where(texts: pa.Array, fast: pa.Array, fn) -> pa.Array:
    """``fast``, with ``fn`` of the text wherever the text is not ASCII (nulls stay as ``fast`` has them)."""
    slow = pc.fill_null(pc.invert(pc.string_is_ascii(texts)), False)
    if not pc.any(slow).as_py():
        return fast
    distinct = pc.dictionary_encode(texts.filter(slow))  # once per distinct text
    done = pa.array([fn(v) for v in distinct.dictionary.to_pylist()], fast.type)
    return pc.replace_with_mask(fast, slow, done.take(distinct.indices))


def strip_array(texts: pa.Array) -> pa.Array:
    """``str.strip()`` of each text."""
    return _python_where(texts, pc.ascii_trim(texts, PY_ASCII_SPACE), str.strip)


_ASCII_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128) else 32
                     for c in range(256))  # A-Z lower-cased, a-z and 0-9 kept, other ASCII -> space


def _ascii_words(texts: pa.Array) -> pa.Array:
    """Lower-case A-Z and turn every other ASCII byte but a-z, 0-9 into a space, in one pass over the
    string data (bytes >= 128 stay: those strings are redone in Python)."""
    validity, offsets, data = texts.buffers()[:3]
    if data is None:
        return texts
    mapped = pa.py_buffer(data.to_pybytes().translate(_ASCII_WORDS))
    return pa.StringArray.from_buffers(len(texts), offsets, mapped, validity, texts.null_count, texts.offset)


def normalize_array(texts) -> pa.Array:
    """``normalize`` of each text (null -> "")."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.string())
    encoded = pc.dictionary_encode(texts)  # rows repeat texts (a behaviour's head, an answer's text)
    if len(encoded.dictionary) < 0.8 * len(texts):
        return _normalize_distinct(encoded.dictionary).take(encoded.indices).fill_null("")
    return _normalize_distinct(texts)


def _normalize_distinct(texts: pa.Array) -> pa.Array:
    words = pc.split_pattern(_ascii_words(texts), " ")
    flat = words.flatten()
    keep = pc.not_equal(flat, "")
    offsets = np.zeros(len(texts) + 1, np.int32)
    np.cumsum(np.bincount(_numpy(pc.list_parent_indices(words).filter(keep)), minlength=len(texts)), out=offsets[1:])
    kept = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(keep))  # words without the empty ones
    fast = pc.binary_join(kept, " ")
    return pc.fill_null(_python_where(texts, fast, normalize), "")


@dataclass
class Words:
    """The words of each of ``n`` texts: text i has ``codes[offsets[i]:offsets[i + 1]]`` (indices into ``vocab``)."""

    offsets: np.ndarray
    codes: np.ndarray
    vocab: list[str]

    @property
    def owner(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def split_words(norms: pa.Array) -> Words:
    """Words of normalised texts (single spaces, no leading or trailing one; "" has none)."""
    lists = pc.split_pattern(norms, " ")
    flat = lists.flatten()
    parents = _numpy(pc.list_parent_indices(lists))
    keep = _numpy(pc.not_equal(flat, ""))
    encoded = pc.dictionary_encode(flat.filter(pa.array(keep)))
    offsets = np.zeros(len(norms) + 1, np.int64)
    np.cumsum(np.bincount(parents[keep], minlength=len(norms)), out=offsets[1:])
    return Words(offsets, _numpy(encoded.indices).astype(np.int64), encoded.dictionary.to_pylist())


class Vocab:
    """What the rules need of each distinct word, and one id space for words, singulars and stems."""

    def __init__(self, fillers: frozenset[str], dangling: frozenset[str]):
        self.fillers, self.dangling = fillers, dangling
        self.ids: dict[str, int] = {}
        self.texts: list[str] = []  # by id
        self._rows: dict[str, int] = {}
        self.singular: list[int] = []  # id of singular(word)
        self.stem: list[int] = []  # id of the stem, -1 when stems() leaves the word out
        self.filler: list[bool] = []
        self.dangles: list[bool] = []
        self._arrays: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def clear(self) -> None:
        self.__init__(self.fillers, self.dangling)

    def id(self, text: str) -> int:
        found = self.ids.get(text)
        if found is None:
            found = self.ids[text] = len(self.ids)
            self.texts.append(text)
        return found

    def rows(self, words: list[str]) -> np.ndarray:
        out = np.empty(len(words), np.int64)
        for i, word in enumerate(words):
            row = self._rows.get(word)
            if row is None:
                row = self._rows[word] = len(self.singular)
                self.singular.append(self.id(singular(word)))
                self.stem.append(self.id(_stem(word)) if word not in STOP_WORDS and len(word) > 1 else -1)
                self.filler.append(word in self.fillers)
                self.dangles.append(word in self.dangling)
            out[i] = row
        return out

    def column(self, name: str) -> np.ndarray:
        """A per-word list as numpy (kept, and extended by what was added since)."""
        values = getattr(self, name)
        array = self._arrays.get(name)
        if array is None or len(array) < len(values):
            done = 0 if array is None else len(array)
            added = np.asarray(values[done:], np.bool_ if name in ("filler", "dangles") else np.int64)
            array = self._arrays[name] = added if array is None else np.concatenate([array, added])
        return array


@dataclass
class Texts:
    """Distinct texts with their normal form, key (``core``), words and the ids the rules compare."""

    norm: pa.Array  # "" when the text has no word
    key: pa.Array  # null when the text has no word
    words: Words  # of norm
    word_rows: np.ndarray  # per flat word: its Vocab row
    key_start: np.ndarray  # per text: leading filler words the key leaves out

    def key_ids(self, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
        """(owner, id of the singular word) for every word of every key."""
        owner = self.words.owner
        keep = (np.arange(len(owner)) - self.words.offsets[owner]) >= self.key_start[owner]
        return owner[keep], vocab.column("singular")[self.word_rows[keep]]

    def stem_ids(self, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
        """(owner, stem id) for every stem of every text (``stems``: a text's content-word stems)."""
        stem = vocab.column("stem")[self.word_rows]
        keep = stem >= 0
        return self.words.owner[keep], stem[keep]


def texts(values: pa.Array, vocab: Vocab, norm: pa.Array | None = None) -> Texts:
    """:class:`Texts` of ``values`` (``norm``: their ``normalize``, when already known)."""
    norm = normalize_array(values) if norm is None else norm
    words = split_words(norm)
    word_rows = vocab.rows(words.vocab)[words.codes] if len(words.codes) else np.zeros(0, np.int64)
    stripped = pc.replace_substring_regex(norm, _LEADING_FILLER.pattern, "", max_replacements=1)
    spaces = _numpy(pc.count_substring(norm, " ")) - _numpy(pc.count_substring(stripped, " "))
    empty = _numpy(pc.equal(stripped, ""))
    key_start = np.where(empty, 0, spaces).astype(np.int64)
    owner = words.owner
    keep = (np.arange(len(owner)) - words.offsets[owner]) >= key_start[owner]
    key_offsets = np.zeros(len(norm) + 1, np.int32)
    np.cumsum(np.bincount(owner[keep], minlength=len(norm)), out=key_offsets[1:])
    ids, inverse = np.unique(vocab.column("singular")[word_rows[keep]], return_inverse=True)
    key_words = pa.array([vocab.texts[i] for i in ids], pa.string()).take(pa.array(inverse.reshape(-1)))
    key = pc.binary_join(pa.ListArray.from_arrays(pa.array(key_offsets), key_words), " ")
    key = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), key)
    return Texts(norm, key, words, word_rows, key_start)

