"""Run the judge over groups of candidates through any generation backend, with the request cache.

Each group is one call. An answer that does not parse into a valid judgement of the whole group is
retried (at most ``max_retries`` times) with the format error quoted in the prompt and another
seed; a group that still fails gets no scores and status ``failed``. Calls go through the same
request cache as generation (key = model, prompt, sampling parameters, seed), so a re-run repeats
no finished call and parses the cached answers again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from intentkg.generate.request_cache import RequestCache, request_key
from intentkg.judge.prompt import VERSION, Candidate, Group, max_tokens, messages, plain_prefix, plain_prompt
from intentkg.judge.schema import JudgeFormatError, parse_judgement
from intentkg.llm.protocol import Backend, Request, SamplingParams
from intentkg.workspace.fingerprint import short_id


@dataclass
class JudgeConfig:
    backend: str = "llama_cpp"
    model: str = "gemma3-270m"
    options: dict[str, Any] = field(default_factory=dict)
    group_size: int = 8
    max_retries: int = 2
    temperature: float = 0.2
    max_tokens: int = 384
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, prompt_version=VERSION)


@dataclass
class Verdict:
    candidate_id: str
    group_id: str
    score: float | None
    reason: str | None
    status: str  # ok | failed
    attempts: int
    request_key: str | None
    error: str | None = None


def make_groups(rows: list[dict], group_size: int) -> list[Group]:
    """Group candidates by (kind, head); big groups are cut into chunks of ``group_size``."""
    by_head: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_head[(r["kind"], r["head"])].append(r)
    groups = []
    for (kind, head), members in sorted(by_head.items()):
        members.sort(key=lambda r: r["candidate_id"])
        for start in range(0, len(members), group_size):
            chunk = members[start:start + group_size]
            cands = tuple(Candidate(r["candidate_id"], r["relation"], r["tail"] or "") for r in chunk)
            groups.append(Group(short_id("judge", kind, head, start), kind, head, cands))
    return groups


def _request(group: Group, error: str | None, attempt: int, chat: bool, model, config: JudgeConfig) -> Request:
    # stop where the model would start scoring an id the group does not have (small models copy the
    # example's length); plain models also stop at a blank line
    stop = (f'"id": {len(group.candidates) + 1},',) + (() if chat else ("\n\n",))
    params = SamplingParams(temperature=config.temperature, top_p=0.95, max_tokens=max_tokens(group, config.max_tokens),
                            n=1, seed=config.seed + attempt, logprobs=False, stop=stop)
    if chat:
        msgs = messages(group, error)
        return Request(request_key(model, None, msgs, params), params, messages=msgs)
    prompt = plain_prompt(group, error)
    return Request(request_key(model, prompt, None, params), params, prompt=prompt)


def judge_groups(groups: list[Group], backend: Backend, cache: RequestCache, config: JudgeConfig,
                 progress=None) -> tuple[list[Verdict], dict[str, int]]:
    """Verdicts for every candidate of every group, and call statistics."""
    model = backend.info()
    run_id = uuid.uuid4().hex[:12]
    pending: dict[str, tuple[Group, str | None]] = {g.group_id: (g, None) for g in groups}
    done: dict[str, tuple[list, str, int]] = {}
    errors: dict[str, str] = {}
    stats = {"groups": len(groups), "calls": 0, "cache_hits": 0, "retries": 0, "failed_calls": 0}
    batch_size = max(1, getattr(backend, "preferred_batch_size", 1) or 1)
    for attempt in range(config.max_retries + 1):
        if not pending:
            break
        if attempt:
            stats["retries"] += len(pending)
        requests = {gid: _request(g, err, attempt, model.chat, model, config) for gid, (g, err) in pending.items()}
        answers = cache.get_many(r.key for r in requests.values())
        stats["cache_hits"] += len(answers)
        todo = [r for r in requests.values() if r.key not in answers]
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            results = backend.generate(batch)
            cache.put_many(model, batch, results, run_id=run_id)
            stats["calls"] += len(batch)
            for result in results:
                if result.error is None and result.completions:
                    answers[result.key] = result.completions
                else:
                    stats["failed_calls"] += 1
            if progress is not None and attempt == 0:
                progress.advance(len(batch))
        if progress is not None and attempt == 0:
            progress.advance(len(requests) - len(todo))
        still: dict[str, tuple[Group, str | None]] = {}
        for gid, (group, _) in pending.items():
            request = requests[gid]
            completions = answers.get(request.key)
            if not completions:
                still[gid] = (group, None)  # the call failed: retry, with nothing to correct
                errors[gid] = "the call failed"
                continue
            text = completions[0].text if model.chat else plain_prefix() + completions[0].text
            try:
                scores = parse_judgement(text, list(range(1, len(group.candidates) + 1)))
            except JudgeFormatError as exc:
                still[gid] = (group, str(exc))
                errors[gid] = str(exc)
                continue
            done[gid] = (scores, request.key, attempt + 1)
        pending = still
    verdicts = []
    for group in groups:
        if group.group_id in done:
            scores, key, attempts = done[group.group_id]
            verdicts += [Verdict(c.candidate_id, group.group_id, s.score, s.reason, "ok", attempts, key)
                         for c, s in zip(group.candidates, scores)]
        else:
            error = errors.get(group.group_id)
            verdicts += [Verdict(c.candidate_id, group.group_id, None, None, "failed", config.max_retries + 1, None,
                                 error) for c in group.candidates]
    stats["groups_failed"] = len(pending)
    return verdicts, stats
