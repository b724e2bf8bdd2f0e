"""Judging through the backend protocol: grouping, bounded retries with the error quoted, the request
cache, and one real run with the bundled Gemma 3 270M through llama.cpp."""

from __future__ import annotations

import json
import re

import pytest

from intentkg.generate.request_cache import RequestCache
from intentkg.judge.judge import JudgeConfig, judge_groups, make_groups
from intentkg.judge.prompt import EXAMPLE, example_for, messages, plain_prefix, plain_prompt
from intentkg.llm.protocol import Completion, ModelInfo, Result

ROWS = [{"candidate_id": f"c{i}", "kind": "search_buy", "head": "tent -> Dome Tent" if i < 3 else "pad -> Air Pad",
         "relation": "used_for_event", "tail": f"reason {i}"} for i in range(5)]


class ScriptedBackend:
    """Answers from a script, one per call, so retries and caching can be checked exactly."""

    name, preferred_batch_size = "scripted", 2

    def __init__(self, answers, chat=True):
        self.answers, self.chat, self.seen = list(answers), chat, []

    def info(self):
        return ModelInfo("scripted", "scripted-1", "hash", self.chat)

    def generate(self, requests):
        out = []
        for r in requests:
            self.seen.append(r)
            text = self.answers.pop(0)
            out.append(Result(r.key, error="boom") if text is None else Result(r.key, [Completion(text)]))
        return out

    def close(self):
        pass


def _valid(n):
    return json.dumps({"scores": [{"id": i + 1, "score": round(1 - i / 4, 2), "reason": f"r{i}"} for i in range(n)]})


def test_groups_by_behaviour_and_cut_to_size():
    groups = make_groups(ROWS, group_size=2)
    assert [len(g.candidates) for g in groups] == [2, 2, 1]  # pad (2), tent (3 -> 2 + 1)
    assert {c.candidate_id for g in groups for c in g.candidates} == {r["candidate_id"] for r in ROWS}
    assert make_groups(ROWS, 8)[0].group_id == make_groups(list(reversed(ROWS)), 8)[0].group_id


def test_retry_quotes_the_error_then_gives_up(tmp_path):
    groups = make_groups(ROWS, 8)  # [pad (2), tent (3)]
    backend = ScriptedBackend(["not json", _valid(3), None, "still not json"])
    with RequestCache(tmp_path) as cache:
        verdicts, stats = judge_groups(groups, backend, cache, JudgeConfig(max_retries=2))
    by_id = {v.candidate_id: v for v in verdicts}
    assert by_id["c0"].status == "ok" and by_id["c0"].score == 1.0 and by_id["c0"].attempts == 1
    assert by_id["c3"].status == "failed" and by_id["c3"].score is None and by_id["c3"].attempts == 3
    assert "no JSON object" in by_id["c3"].error
    retry_prompt = backend.seen[2].messages[1]["content"]
    assert "previous answer was not usable (no JSON object" in retry_prompt
    assert "not usable" not in backend.seen[3].messages[1]["content"]  # after a failed call: nothing to correct
    assert stats == {"groups": 2, "calls": 4, "cache_hits": 0, "retries": 2, "failed_calls": 1, "groups_failed": 1}


def test_cached_answers_are_reused(tmp_path):
    groups = make_groups(ROWS, 8)
    with RequestCache(tmp_path) as cache:
        judge_groups(groups, ScriptedBackend([_valid(2), _valid(3)]), cache, JudgeConfig())
        again = ScriptedBackend([])
        verdicts, stats = judge_groups(groups, again, cache, JudgeConfig())
    assert again.seen == [] and stats["cache_hits"] == 2 and all(v.status == "ok" for v in verdicts)


def test_prompts_show_the_behaviour_and_number_the_candidates():
    group = make_groups(ROWS, 8)[1]
    text = messages(group)[1]["content"]
    assert 'searched for "tent" and bought "Dome Tent"' in text and "3. used for the event reason 2" in text
    assert "Score ids 1, 2, 3." in text and plain_prompt(group).endswith('{"scores": [{"id": 1, "score": ')
    examples = {example_for(g)[0].candidates[0].tail for g in make_groups(ROWS * 3, 1)}
    assert len(examples) > 1 and {c.tail for c in EXAMPLE.candidates} >= examples  # rotated, not one fixed pattern
    example, answer = example_for(group)
    by_tail = {c.tail: s["score"] for c, s in zip(example.candidates, answer["scores"])}
    assert by_tail["hiking in the rain"] == 0.9 and [s["id"] for s in answer["scores"]] == [1, 2, 3]


@pytest.mark.slow
def test_real_bundled_model_through_llama_cpp(tmp_path):
    """The bundled Gemma 3 270M, with this prompt and seed, answers in a usable form: every candidate gets a
    score in [0, 1] for its own id. Old test: accepted 'failed' as well, so it passed whatever the model did."""
    pytest.importorskip("llama_cpp")
    from intentkg.llm import registry

    backend = registry.create("llama_cpp", model="gemma3-270m", n_threads=2, n_ctx=1024)
    chat = backend.info().chat
    try:
        groups = make_groups(ROWS[:2], 8)
        with RequestCache(tmp_path) as cache:
            verdicts, stats = judge_groups(groups, backend, cache, JudgeConfig(max_retries=1, max_tokens=104))
            raw = {v.request_key: cache.get_many([v.request_key])[v.request_key][0].text for v in verdicts
                   if v.request_key}
    finally:
        backend.close()
    assert [(v.candidate_id, v.status, v.error) for v in verdicts] == [("c0", "ok", None), ("c1", "ok", None)]
    assert stats["groups_failed"] == 0 and stats["calls"] >= 1
    assert all(0.0 <= v.score <= 1.0 for v in verdicts)
    # the scores are the model's own numbers for ids 1 and 2, read here from its stored answer
    (text,) = raw.values()
    text = text if chat else plain_prefix() + text  # a plain prompt pre-writes the start of the answer
    for number, verdict in enumerate(verdicts, start=1):
        found = re.search(rf'"id":\s*{number}\s*,\s*"score":\s*([0-9.]+)', text)
        assert found and float(found.group(1)) == verdict.score, text
