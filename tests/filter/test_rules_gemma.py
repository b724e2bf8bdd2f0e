"""The rules on real Gemma 3 270M answers for real ESCI rows (recorded by scripts/record_gemma_answers.py).

The expectations were written by reading the answers, not by running the rules: the prompts showed
the birthday-candles and face-towel worked answers, and the model repeated them for a shampoo, a
blouse, curtains and a watch.
"""

from __future__ import annotations

import json
from pathlib import Path

from intentkg.filter.config import RulesConfig
from intentkg.filter.rules import RuleChecker

ANSWERS = json.loads((Path(__file__).parent / "data" / "gemma_esci_answers.json").read_text(encoding="utf-8"))
COPIES = {(0, "a birthday party"), (0, "decorating a cake"), (0, "an anniversary celebration"),
          (2, "drying the face"), (3, "a birthday party"), (15, "a birthday party"),
          (15, "an anniversary celebration"), (17, "washing off makeup"), (21, "a birthday party")}
KNOWLEDGE = {(1, "use a body wash"), (6, "repairing a door"), (11, "treating skin rashes"),
             (13, "clean the dirt and dust"), (14, "cleaning the house"), (16, "buy curtains for a bedroom"),
             (20, "cutting"), (23, "Jewelry")}
RESTATEMENTS = {(23, "Watch")}


def _flags() -> dict[tuple[int, str], list[str]]:
    checker = RuleChecker(RulesConfig())
    found = {}
    for i, answer in enumerate(ANSWERS):
        assert answer["model_id"] == "gemma3-270m"
        for tail in answer["tails"]:
            found[(i, tail)] = checker.check_row(tail, answer["relation"], "ok", answer["kind"], answer["query"],
                                                 answer["title"], shown=answer["shown_examples"]).flags
    return found


def test_real_copies_of_the_worked_answers_are_flagged_and_real_knowledge_is_not():
    flags = _flags()
    assert {key for key in COPIES if "copied_example" not in flags[key]} == set()
    assert {key: flags[key] for key in KNOWLEDGE if flags[key]} == {}
    assert all("restates_product" in flags[key] for key in RESTATEMENTS)
