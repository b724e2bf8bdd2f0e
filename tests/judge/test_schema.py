"""The judge's answer parser: the shapes models write, and every way an answer can be unusable."""

from __future__ import annotations

import pytest

from intentkg.judge.schema import JudgeFormatError, parse_judgement

IDS = [1, 2]


@pytest.mark.parametrize("text", [
    '{"scores": [{"id": 1, "score": 0.9, "reason": "fits"}, {"id": 2, "score": 0, "reason": "off"}]}',
    'Sure! ```json\n{"scores": [{"id": 2, "score": 0.0}, {"id": 1, "score": 0.9, "reason": "fits"}]}\n``` Done.',
    '[{"id": 1, "score": 0.9, "reason": "fits"}, {"id": 2, "score": 0.0}]',
    '{"1": 0.9, "2": {"score": 0.0, "reason": "off"}}',
    "1: 0.9 - fits\n2: 0.0 - off",
    '{"scores": [{"id": 1, "score": 0.9, "reason": "fits"}, {"id": 2, "score": 0.0, "reason": "of',  # cut off
])
def test_accepted_shapes(text):
    scores = parse_judgement(text, IDS)
    assert [s.id for s in scores] == IDS and [s.score for s in scores] == [0.9, 0.0]


@pytest.mark.parametrize("text,message", [
    ("I think both are fine.", "no JSON object"),
    ('{"scores": [{"id": 1, "score": 0.9}]}', "missing \\[2\\]"),
    ('{"scores": [{"id": 1, "score": 0.9}, {"id": 2, "score": 0.1}, {"id": 3, "score": 0.1}]}', "unexpected \\[3\\]"),
    ('{"scores": [{"id": 1, "score": 1.7}, {"id": 2, "score": 0.1}]}', "less than or equal to 1"),
    ('{"scores": [{"id": 1, "score": 0.5}, {"id": 1, "score": 0.1}]}', "scored twice"),
    ('{"scores": [{"id": 1, "score": "high"}, {"id": 2, "score": 0.1}]}', "valid number"),
])
def test_rejected_with_a_reason(text, message):
    with pytest.raises(JudgeFormatError, match=message):
        parse_judgement(text, IDS)


def test_reasons_are_flattened_and_bounded():
    (score,) = parse_judgement('{"scores": [{"id": 1, "score": 1, "reason": "a\\n  b' + "x" * 500 + '"}]}', [1])
    assert score.reason.startswith("a b") and len(score.reason) == 200


def test_an_answer_stopped_before_an_extra_id_is_read():
    text = '{"scores": [{"id": 1, "score": 0.7, "reason": "fits"}, {'  # stop sequence cut '"id": 2,'
    assert [s.score for s in parse_judgement(text, [1])] == [0.7]
