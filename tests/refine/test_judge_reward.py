"""The judge component: relative scores of a group through a real backend and the request cache; a failed
call is counted and left out of the reward, never a crash."""

from __future__ import annotations

import math
import socket

from helpers.llm_models import gemma

from intentkg.filter.config import FilterConfig
from intentkg.generate.request_cache import RequestCache
from intentkg.judge.judge import JudgeConfig
from intentkg.llm.openai_compatible import OpenAICompatibleBackend
from intentkg.operating_point import OperatingPoint
from intentkg.refine.config import RewardSettings
from intentkg.refine.judge_reward import GroupJudge
from intentkg.refine.reward import Behaviour, Reward

TENT = Behaviour("p1", "b1", "search_buy", "winter tent -> Summit 4-Season Dome Tent", "used_for_event",
                 "winter tent", "Summit 4-Season Dome Tent")
ANSWERS = [["winter camping"], ["newborn babies"]]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_bundled_gemma_judges_a_group_through_the_cache(tmp_path):
    config = JudgeConfig(max_tokens=96, max_retries=1)
    with RequestCache(tmp_path / "cache") as cache:
        judge = GroupJudge(gemma(), cache, config)
        first = judge.score([TENT, TENT], ANSWERS)
        calls = judge.stats["calls"]
        again = judge.score([TENT, TENT], ANSWERS)
    assert len(first) == 2 and all(s is None or 0.0 <= s <= 1.0 for s in first)
    assert judge.stats["groups"] == 2 and calls >= 1
    assert judge.stats["calls"] == calls  # the repeated group is answered from the cache
    assert again == first
    if all(s is None for s in first):  # the small model's answer did not parse: counted, not raised
        assert judge.stats["groups_failed"] >= 1


def test_a_failed_judge_call_is_counted_and_left_out(tmp_path):
    backend = OpenAICompatibleBackend("judge-model", base_url=f"http://127.0.0.1:{_closed_port()}/v1", retries=0,
                                      timeout=2.0, model_hash="none")
    with RequestCache(tmp_path / "cache") as cache:
        judge = GroupJudge(backend, cache, JudgeConfig(max_retries=0))
        weights = {"rules": 1.0, "judge": 2.0}
        reward = Reward(RewardSettings(weights=weights), FilterConfig(), OperatingPoint(), None, None, judge)
        scored = reward.score([TENT, TENT], ["1. winter camping", "1. newborn babies"])
        reward.close()
    assert [s.components["judge"] for s in scored] == [None, None]
    assert judge.stats["groups_failed"] == 1
    for s in scored:  # the total is the rules part alone
        assert math.isclose(s.total, 1.0 * s.components["rules"])
