"""The training's progress bar (steps, rate, loss, ETA) and its checkpoint hook, as one TrainerCallback.

Made lazily (:func:`progress_callback`) so importing this module needs no transformers. After each
checkpoint is saved it calls :func:`intentkg.workspace.commit.kill_point` with ``saved:<step>``:
the kill tests SIGKILL the run right there (``INTENTKG_KILL_AT=distill:saved:2``).
"""

from __future__ import annotations

from intentkg.workspace.commit import kill_point


def progress_callback(stage: str):
    from transformers import TrainerCallback

    from intentkg.progress import make_progress

    class RichProgress(TrainerCallback):
        def __init__(self) -> None:
            self.progress = None
            self.task = None
            self.first_step = 0

        def on_train_begin(self, args, state, control, **kwargs):
            self.first_step = state.global_step  # > 0 when resumed from a checkpoint
            self.progress = make_progress()
            self.progress.start()
            self.task = self.progress.add_task("distill train", total=state.max_steps, completed=state.global_step,
                                               rate="")

        def on_step_end(self, args, state, control, **kwargs):
            if self.progress is None:
                return
            task = self.progress.tasks[self.task]
            loss = next((h["loss"] for h in reversed(state.log_history) if "loss" in h), None)
            rate = f"{task.speed:.2f} steps/s" if task.speed else ""
            self.progress.update(self.task, completed=state.global_step,
                                 rate=rate + (f" loss {loss:.3f}" if loss is not None else ""))

        def on_save(self, args, state, control, **kwargs):
            kill_point(stage, f"saved:{state.global_step}")

        def on_train_end(self, args, state, control, **kwargs):
            if self.progress is not None:
                self.progress.stop()
                self.progress = None

    return RichProgress()
