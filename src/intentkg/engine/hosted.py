"""Workers and models kept inside a Ray worker process: built once, reused by every later block that
asks for the same one.

Ray runs tasks in long-lived worker processes (a cluster starts one per CPU and keeps it). Each
map of the Ray engine is a Ray Data ``map_batches`` of *tasks*; a task looks its worker up here
by a token the driver computed from (class, arguments) and builds it only when this process has not
built it yet. So a step's model is loaded once per process, and a later step or stage with the
same model (the filter's two embedding passes, the evaluation's encoder after the filter's) loads
it no more - where an actor pool per step started new processes and loaded every model again.

The arguments travel once, through the object store (``ray.put`` on the driver); a task fetches
them only when it builds. At most :data:`KEEP` workers of model steps stay built per process (least
recently used go first, their ``close`` called), so a long session does not pile up models; a worker
of a step without a model (rules, candidates) is built per block and not kept. A worker whose
arguments change every run (the generator's run id, the filter's clusters) takes its model from
:func:`kept`, keyed by what the model is, so the next run finds it loaded.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Callable

KEEP = 4  # a generate + filter run asks for four models: generator, completeness scorer, embedder, critic
_BUILT: "OrderedDict[str, Any]" = OrderedDict()
_MODELS: "OrderedDict[str, Any]" = OrderedDict()


def _remember(cache: "OrderedDict[str, Any]", key: str, build: Callable[[], Any]) -> Any:
    """``cache[key]``, built if missing; at most :data:`KEEP` entries (least recently used closed first)."""
    value = cache.get(key)
    if value is None:
        value = cache[key] = build()
        while len(cache) > KEEP:
            _, old = cache.popitem(last=False)
            close = getattr(old, "close", None)
            if close is not None:
                close()
    cache.move_to_end(key)
    return value


def token(worker: type, args: tuple[Any, ...]) -> str:
    """The key of a worker built from ``args`` (what the arguments serialise to, not their identity)."""
    from ray import cloudpickle

    return hashlib.sha256(cloudpickle.dumps((worker.__module__, worker.__qualname__, args))).hexdigest()


def kept(what: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    """The model ``what`` names (e.g. ``("critic", path, device)``), built once per process and kept
    across workers, steps and runs. On the local engine (no Ray) it is simply built."""
    if not _in_ray_worker():
        return build()  # the driver (the local engine): its models live as long as the stage's worker
    return _remember(_MODELS, hashlib.sha256(repr(what).encode()).hexdigest(), build)


def _in_ray_worker() -> bool:
    import sys

    if "ray" not in sys.modules:
        return False
    import ray

    return ray.is_initialized() and ray.get_runtime_context().worker.mode == ray.WORKER_MODE


class Hosted:
    """What a task needs to find or build its worker: the token, the class and the boxed reference to
    the arguments in the object store (boxed in a list so Ray does not fetch it for every task);
    ``keep``: keep the built worker for later blocks (model steps)."""

    def __init__(self, worker: type, args: tuple[Any, ...], keep: bool = True):
        import ray

        self.worker, self.token, self.keep = worker, token(worker, args), keep
        self.boxed = [ray.put(tuple(args))]

    def get(self) -> Any:
        import ray

        build = lambda: self.worker(*ray.get(self.boxed[0]))  # noqa: E731
        return _remember(_BUILT, self.token, build) if self.keep else build()


def built_here() -> int:
    """How many workers this process holds (tests)."""
    return len(_BUILT)
