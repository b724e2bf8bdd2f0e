"""Workers kept inside a Ray worker process: built once, reused by every later block that asks for
the same worker class with the same arguments.

Ray runs tasks in long-lived worker processes (a cluster starts one per CPU and keeps it). Each
map of the Ray engine is a Ray Data ``map_batches`` of *tasks*; a task looks its worker up here
by a token the driver computed from (class, arguments) and builds it only when this process has not
built it yet. So a step's model is loaded once per process, and a later step or stage with the
same model (the filter's two embedding passes, the evaluation's encoder after the filter's) loads
it no more - where an actor pool per step started new processes and loaded every model again.

The arguments travel once, through the object store (``ray.put`` on the driver); a task fetches
them only when it builds. At most :data:`KEEP` workers stay built per process (least recently used
go first, their ``close`` called), so a long session does not pile up models.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

KEEP = 2
_BUILT: "OrderedDict[str, Any]" = OrderedDict()


def token(worker: type, args: tuple[Any, ...]) -> str:
    """The key of a worker built from ``args`` (what the arguments serialise to, not their identity)."""
    from ray import cloudpickle

    return hashlib.sha256(cloudpickle.dumps((worker.__module__, worker.__qualname__, args))).hexdigest()


class Hosted:
    """What a task needs to find or build its worker: the token, the class and the boxed reference to
    the arguments in the object store (boxed in a list so Ray does not fetch it for every task)."""

    def __init__(self, worker: type, args: tuple[Any, ...]):
        import ray

        self.worker, self.token = worker, token(worker, args)
        self.boxed = [ray.put(tuple(args))]

    def get(self) -> Any:
        fn = _BUILT.get(self.token)
        if fn is None:
            import ray

            fn = self.worker(*ray.get(self.boxed[0]))
            _BUILT[self.token] = fn
            while len(_BUILT) > KEEP:
                _, old = _BUILT.popitem(last=False)
                close = getattr(old, "close", None)
                if close is not None:
                    close()
        _BUILT.move_to_end(self.token)
        return fn


def built_here() -> int:
    """How many workers this process holds (tests)."""
    return len(_BUILT)
