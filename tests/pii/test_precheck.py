"""The PII pre-check (intentkg.pii.precheck) says "may hold PII" exactly when the one regular
expression it replaced found something, on the PII benchmark sets and on random texts built from the
pieces the recognisers look for (separators, digits, street types, Unicode case oddities)."""

import csv
import random
import re
from pathlib import Path

import pytest

from intentkg.pii.precheck import may_hold_pii
from intentkg.pii.vocabulary import DIRECTIONS, STREET_TYPES

DATA = Path(__file__).resolve().parents[2] / "bench" / "pii" / "data"
_WORDS = "|".join(sorted(map(re.escape, STREET_TYPES | DIRECTIONS), key=len, reverse=True))
REFERENCE = re.compile(  # the pre-check as it was first written (quadratic on some texts)
    r"@|name|box|1z[0-9a-z]{16}|\d(?:[\s.\-()/+]*\d){5,}|\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f]*:"
    rf"|\d{{1,6}}[a-z]?\s+(?:\S+\s+){{0,5}}?(?:{_WORDS})\b", re.IGNORECASE)
PIECES = ["1", "12", "123456", "4111", "9b", "1z", "1Z", "\u0661", " ", "  ", "\t", "\u00a0", "\n", "-", ".", "(", ")",
          "/", "+", ":", "@", "_", ",", "a", "b", "f", "z", "x", "q", "k", "ab", "cd", "\u00e9", "\u017f", "\u212a",
          "\u0131", "\u0130", "st", "ST", "\u017ft", "St.", "street", "streets", "n", "ne", "north", "way", "wayx",
          "Rd,", "road", "dr", "apt", "box", "B\u00f8x", "name", "NAME", "nAmE"]


def _random_texts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def test_agrees_with_the_reference_expression_on_random_texts():
    texts = _random_texts(30_000)
    assert sum(bool(REFERENCE.search(t)) for t in texts) > 5_000  # both answers are well represented
    assert [t for t in texts if may_hold_pii(t) != bool(REFERENCE.search(t))] == []


def test_agrees_with_the_reference_expression_on_the_benchmark_sets():
    queries = (DATA / "pii_product_queries.txt").read_text(encoding="utf-8").splitlines()
    with open(DATA / "pii_positive.tsv", encoding="utf-8") as f:
        queries += [row["query"] for row in csv.DictReader(f, delimiter="\t")]
    assert [q for q in queries if may_hold_pii(q) != bool(REFERENCE.search(q))] == []
    assert sum(map(may_hold_pii, queries)) > 300


@pytest.mark.parametrize("text, expected", [
    ("winter camping gear", False), ("65 inch tv", False), ("query 12k345", False), ("ship to 42 elm street", True),
    ("4521 n broadway", True), ("12 oak rd, springfield", True), ("12 x x x x x x street", False),
    ("12 x x x x x street", True), ("call 555 867 5309", True), ("router 192.168.1.20", True), ("fe80::1", True),
    ("my name is", True), ("po box 4471", True), ("1Z999AA10123456784", True), ("a@b", True),
    ("a" * 500, False), ("a:" + "a" * 498, False), ("12 streetlight", False), ("12 \u017ft", True)])
def test_examples(text, expected):
    assert may_hold_pii(text) is expected
