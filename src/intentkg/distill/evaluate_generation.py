"""The generation task of ``intentkg distill eval``: the student's knowledge for held-out behaviours.

The student answers each held-out generation row's prompt (the phrasing it was trained in) through
llama.cpp. Its answers are parsed as ``intentkg generate`` parses them and checked with the
workspace's filter rules and critic at the workspace's operating point. The teacher's numbers for
the same behaviours and relations come from what it generated there (``generate/candidates`` and
``filter/scores``). Measures, for both:

- ``parsed``: share of answers with at least one parsed item;
- ``rules_pass``: share of parsed tails with no rule flag;
- ``critic_pass``: share of rule-passing tails at or above the critic's plausibility threshold;
- ``distinct_tails``: distinct tails (canonical form);
- ``overlap_with_teacher`` (student only): share of its distinct tails per row that are among the
  teacher's kept knowledge for that behaviour and relation (the row's training answer).

Tokens per second: both models on the same held-out prompts (a teacher without a chat template gets
the messages as one plain prompt), greedy, the same token budget.
"""

from __future__ import annotations

import time
from typing import Any

from intentkg.generate.parse import parse_answer
from intentkg.kg.canonical import canonical
from intentkg.llm.protocol import Request, SamplingParams

MAX_TOKENS = 48


def _answers(backend, rows: list[dict], chat: bool) -> tuple[list[str], dict[str, float]]:
    params = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=MAX_TOKENS, n=1, seed=0, logprobs=False)
    requests = []
    for i, row in enumerate(rows):
        messages = tuple(dict(m) for m in row["prompt"])
        if chat:
            requests.append(Request(key=f"eval-{i}", params=params, messages=messages))
        else:
            requests.append(Request(key=f"eval-{i}", params=params,
                                    prompt="\n\n".join(m["content"] for m in messages) + "\n1."))
    started = time.perf_counter()
    results = backend.generate(requests)
    seconds = time.perf_counter() - started
    texts, tokens = [], 0
    for result in results:
        completion = result.completions[0] if result.completions else None
        texts.append(completion.text if completion else "")
        tokens += (completion.completion_tokens or 0) if completion else 0
    return texts, {"seconds": round(seconds, 3), "tokens": tokens,
                   "tokens_per_second": round(tokens / seconds, 2) if seconds > 0 else None}


def _tails(text: str, chat: bool) -> list[str]:
    items = parse_answer(text, primer="" if chat else "1.")
    return [i.tail for i in items if i.status == "ok" and i.tail]


def _rates(per_row: list[list[tuple[str, bool, bool]]], answers: int) -> dict[str, Any]:
    """From (tail, passes rules, passes the critic) per row."""
    parsed = sum(1 for tails in per_row if tails)
    flat = [t for tails in per_row for t in tails]
    rules = [t for t in flat if t[1]]
    return {"answers": answers, "parsed": round(parsed / answers, 4) if answers else None,
            "rules_pass": round(len(rules) / len(flat), 4) if flat else None,
            "critic_pass": round(sum(1 for t in rules if t[2]) / len(rules), 4) if rules else None,
            "distinct_tails": len({canonical(t[0]) for t in flat if canonical(t[0])})}


class Checker:
    """The workspace's rules and critic at its operating point, for tails of one behaviour. The critic is
    asked as the filter asks it: a classifier critic about the candidate's head, a student critic
    (``asks_about_behaviours``) about the behaviour sentence it was trained on."""

    def __init__(self, rules, critic, threshold: float | None, behaviors: dict[str, dict]):
        self.rules, self.critic, self.threshold, self.behaviors = rules, critic, threshold, behaviors

    @property
    def checked_by(self) -> str:
        """Which critic decided ``critic_pass`` (the results say it: without one it is the rules' verdict)."""
        if self.critic is None or self.threshold is None:
            return "rules only (the filter has no critic)"
        return f"{self.critic.critic_id} at plausibility >= {self.threshold:g}"

    def check(self, row: dict, tails: list[str]) -> list[tuple[str, bool, bool]]:
        behavior = self.behaviors.get(row.get("behavior_id") or "", {})
        kind = behavior.get("kind", "co_buy")
        left, right = behavior.get("left_text"), behavior.get("right_text")
        passed = [not self.rules.check_row(t, row["relation"], "ok", kind, left, right).flags for t in tails]
        critic = [True] * len(tails)
        if self.critic is not None and self.threshold is not None and tails:
            n, relations = len(tails), [row["relation"]] * len(tails)
            if getattr(self.critic, "asks_about_behaviours", False):
                from intentkg.critic.yes_no_prompt import behavior_text

                sentence = behavior_text(kind, left or "", right or "")
                values = self.critic.score([sentence] * n, relations, tails, kinds=[kind] * n)["plausibility"]
            else:
                head = f"{left} -> {right}" if kind == "search_buy" else f"{left} + {right}"
                values = self.critic.score([head] * n, relations, tails)["plausibility"]
            critic = [float(v) >= self.threshold for v in values]
        return list(zip(tails, passed, critic))

    def close(self) -> None:
        if hasattr(self.critic, "close"):
            self.critic.close()


def student_generation(backend, rows: list[dict], checker: Checker) -> dict[str, Any]:
    texts, speed = _answers(backend, rows, chat=True)
    per_row, overlaps = [], []
    for row, text in zip(rows, texts):
        tails = _tails(text, chat=True)
        per_row.append(checker.check(row, tails))
        taught = {canonical(t) for t in _tails(row["completion"], chat=True)}
        mine = {canonical(t) for t in tails if canonical(t)}
        if mine:
            overlaps.append(len(mine & taught) / len(mine))
    out = _rates(per_row, len(rows))
    out["overlap_with_teacher"] = round(sum(overlaps) / len(overlaps), 4) if overlaps else 0.0
    out["critic"] = checker.checked_by
    out["speed"] = speed
    out["examples"] = [{"prompt": r["prompt"][-1]["content"], "answer": t} for r, t in list(zip(rows, texts))[:3]]
    return out


def teacher_generation(rows: list[dict], candidates: list[dict], scores: dict[str, dict],
                       threshold: float | None) -> dict[str, Any]:
    """What the teacher generated for the held-out rows' behaviours and relations, as the filter scored it."""
    wanted = {(r.get("behavior_id"), r["relation"]) for r in rows}
    answers: dict[tuple, list[tuple[str, bool, bool]]] = {}
    for c in candidates:
        if (c["behavior_id"], c["relation"]) not in wanted:
            continue
        tails = answers.setdefault((c["request_key"], c["sample"]), [])
        if c["parse_status"] == "ok" and c["tail"]:
            s = scores.get(c["candidate_id"], {})
            plaus = s.get("plausibility")
            critic = threshold is None or plaus is None or plaus >= threshold
            tails.append((c["tail"], not (s.get("rule_flags") or []), critic))
    return _rates(list(answers.values()), len(answers))


def teacher_speed(backend, rows: list[dict], chat: bool) -> dict[str, float]:
    return _answers(backend, rows, chat=chat)[1]
