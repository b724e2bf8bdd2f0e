"""Several batched decoders on one job list: one per group of CPU threads, one copy of the weights.

One llama.cpp context runs its compute threads in lock step: every operation of a decode step ends
in a barrier, and on a busy machine a thread that is descheduled keeps its team spinning (measured
on the 2-vCPU VM at load 4-7: a 2-thread context took ~10x the CPU time of a 1-thread one per step).
So the backend uses all the CPUs as ``workers`` decoders of ``n_threads`` threads each, every one
with its own context, KV streams and ``parallel`` slots, sharing the loaded model, each driven by a
Python thread (llama.cpp releases the GIL while it computes). No barrier spans two workers.

Jobs are handed out by :class:`intentkg.llm.llama_cpp_jobs.JobQueue`. Which worker draws a job does
not change its answer: each worker evaluates a prompt in the same parts, alone, with the same
kernels (see :mod:`intentkg.llm.llama_cpp_batched`).

Before any job, a probe decoder measures how decode steps must be shaped for every row to be
computed the same whatever its batch-mates (:func:`~intentkg.llm.llama_cpp_step_plan.plan_steps`):
every step padded to ``min_rows`` rows (``parallel`` slots kept; below ``min_rows`` slots the
decoders get streams that only hold pads, so an answer does not depend on ``parallel`` either), or,
where padding does not hold, fewer slots (``self.parallel``); the generate stage prints a lowered slot count and records
``decode_slots`` and ``decode_min_rows``. The plan is kept per model file and shape for the process.
"""

from __future__ import annotations

import logging
import threading
from typing import Sequence

from intentkg.llm.llama_cpp_batched import BatchedDecoder, load_model
from intentkg.llm.llama_cpp_jobs import JobQueue
from intentkg.llm.llama_cpp_step_plan import PROBE_SLOTS, StepPlan, plan_steps

log = logging.getLogger(__name__)
_PLANS: dict[tuple, StepPlan] = {}  # (path, parallel, probe slots, n_ctx, n_threads, n_batch, n_gpu_layers, extra buffers)


class DecoderPool:
    """``workers`` :class:`BatchedDecoder` s on one loaded model; :meth:`run` spreads jobs over them."""

    def __init__(self, path: str, workers: int, parallel: int, n_ctx: int, n_threads: int, n_batch: int = 512,
                 n_gpu_layers: int = 0, use_extra_buffers: bool = True, verbose: bool = False):
        import llama_cpp as lc

        self.lc = lc
        self.model = load_model(path, n_gpu_layers, use_extra_buffers, verbose)
        self.decoders: list[BatchedDecoder] = []
        self.requested_parallel = parallel
        try:
            plan = self._plan(path, parallel, n_ctx, n_threads, n_batch, n_gpu_layers, use_extra_buffers, verbose)
            self.parallel, self.min_rows = plan.slots, plan.min_rows
            for _ in range(workers):
                self.decoders.append(BatchedDecoder(path, self.parallel, n_ctx, n_threads, n_batch, n_gpu_layers,
                                                    use_extra_buffers, verbose, model=self.model,
                                                    min_rows=self.min_rows))
        except BaseException:
            self.close()
            raise

    def _plan(self, path: str, parallel: int, *shape) -> StepPlan:
        """How this model's decode steps are shaped on this machine (measured once per process and shape)."""
        size = max(parallel, PROBE_SLOTS)
        key = (path, parallel, size, *shape[:5])
        if key not in _PLANS:
            probe = BatchedDecoder(path, size, *shape, model=self.model)
            try:
                _PLANS[key] = plan = plan_steps(probe, parallel)
            finally:
                probe.close()
            if plan.min_rows:
                log.info("llama_cpp: every decode step padded to %d sequences: on this machine a step of fewer "
                         "computes a sequence otherwise than one of %d or more", plan.min_rows, plan.min_rows)
            elif plan.slots < parallel:
                log.info("llama_cpp: parallel %d -> %d: on this machine a decode step of %d or more sequences "
                         "computes each one otherwise than alone, so an answer would depend on its batch-mates",
                         parallel, plan.slots, plan.slots + 1)
        return _PLANS[key]

    @property
    def first(self):
        """The decoder that tokenizes and renders chat prompts (all share one vocabulary)."""
        return self.decoders[0]

    def run(self, jobs: Sequence) -> list:
        queue = JobQueue(jobs, len(self.decoders))
        results: list = [None] * len(jobs)
        if len(self.decoders) == 1:
            return self.decoders[0].run(jobs, queue, 0, results)
        errors: list[BaseException] = []

        def work(w: int) -> None:
            try:
                self.decoders[w].run(jobs, queue, w, results)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                queue.stop()
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,), name=f"llama-decoder-{w}", daemon=True)
                   for w in range(len(self.decoders))]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:  # e.g. KeyboardInterrupt: let every worker finish its step before contexts go
            queue.stop()
            for thread in threads:
                thread.join()
            raise
        if errors:
            raise errors[0]
        return results

    def close(self) -> None:
        for decoder in self.decoders:
            decoder.close()
        self.decoders = []
        if getattr(self, "model", None):
            self.lc.llama_model_free(self.model)
            self.model = None
