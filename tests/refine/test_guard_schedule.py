"""When the guard evaluates: before the first step, every `every` steps, and the last step when `every`
does not divide it (so "after" can be the last checkpoint). The evaluation itself is the smoke run's
(tests/refine/test_stage.py); here it records the step it was asked for, to test the schedule alone."""

from types import SimpleNamespace

from intentkg.refine.guard import Guard


MODEL = SimpleNamespace(state_dict=dict)  # the kept-adapter copy reads its (here: no) LoRA weights


class Recording(Guard):
    def evaluate(self, model, step):
        return {"step": step, "reward": 1.0, "heldout_critic": 0.5, "agreement": 0.1, "filter_pass_share": 0.5}


def _guard(tmp_path, every):
    return Recording(None, [], [], None, [], None, every=every, patience=2, checkpoints=None)


def _run(guard, steps, stop_at=None):
    control = SimpleNamespace(should_training_stop=False)
    guard.on_train_begin(None, SimpleNamespace(global_step=0), control, model=MODEL)
    step = 0
    for step in range(1, steps + 1):
        guard.on_step_end(None, SimpleNamespace(global_step=step), control, model=MODEL)
        if step == stop_at:
            guard.stopped_at = step
            break
    guard.on_train_end(None, SimpleNamespace(global_step=step), control, model=MODEL)
    return [p["step"] for p in guard.curve]


def test_the_last_step_is_evaluated_when_every_does_not_divide_it(tmp_path):
    assert _run(_guard(tmp_path, 5), 12) == [0, 5, 10, 12]


def test_no_second_evaluation_of_an_evaluated_last_step_or_after_a_stop(tmp_path):
    assert _run(_guard(tmp_path, 5), 10) == [0, 5, 10]
    assert _run(_guard(tmp_path, 2), 7, stop_at=3) == [0, 2]
