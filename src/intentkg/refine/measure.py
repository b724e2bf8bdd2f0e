"""Before / after on held-out behaviours: what the filter would keep of the policy's answers.

For one evaluation's scored answers (:class:`~intentkg.refine.reward.Scored`):

- ``filter_pass_share``: the share of items that pass every check the reward applies (rules,
  paraphrase, unrelated, generic) and the critic at the workspace's operating point
  (``min_plausibility``, per relation, and ``min_typicality`` when set). The completeness LM score
  and near-duplicate removal of ``intentkg filter`` are not applied here;
- ``critic_pass_rate``: the share of items at or above the operating point's plausibility threshold;
- ``distinct_tails``: distinct items (case-folded) over all answers; ``items``: how many.
"""

from __future__ import annotations

from intentkg.operating_point import OperatingPoint


def filter_measures(scored, behaviours, point: OperatingPoint) -> dict:
    items = passed = critic_ok = 0
    tails = set()
    for s, b in zip(scored, behaviours):
        limit = point.plausibility_for(b.relation)
        for tail, flags, critic in zip(s.items, s.flags, s.critic or [{}] * len(s.items)):
            items += 1
            tails.add(tail.lower())
            p, t = critic.get("plausibility"), critic.get("typicality")
            ok_p = limit is None or p is None or p >= limit
            ok_t = point.min_typicality is None or t is None or t >= point.min_typicality
            critic_ok += ok_p
            passed += (not flags) and ok_p and ok_t
    return {"items": items, "filter_pass_share": round(passed / items, 4) if items else 0.0,
            "critic_pass_rate": round(critic_ok / items, 4) if items else 0.0, "distinct_tails": len(tails)}
