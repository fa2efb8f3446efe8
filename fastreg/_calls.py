"""Stream ids for random calls made without an index.

An object called without ``index`` (a batch without ``indices``) numbers
its calls 0, 1, 2, ... and call ``n`` uses the index

    ``derive_stream(DOMAINS["call"], worker, worker_seed, n)``

(item i of a batch call takes that index + i, modulo 2**64), where
``(worker, worker_seed)`` is ``(id + 1, seed)`` of
``torch.utils.data.get_worker_info()`` inside a DataLoader worker and
``(0, 0)`` elsewhere.  So successive calls draw anew, a process repeats its
draws from the same seed, and two workers (or two epochs of re-created
workers, whose seeds differ) draw differently.  These indices are 64-bit
hashes in their own domain, not small dataset positions, so they do not meet
the streams of calls that pass ``index=`` -- the way to be reproducible
across worker counts.
"""

import itertools
import os
import sys

import numpy as np

from fastreg import _random
from fastreg.random import DOMAINS


def _worker():
    """(worker id + 1, worker seed) in a DataLoader worker, else (0, 0); never imports torch."""
    data = sys.modules.get("torch.utils.data")
    info = data.get_worker_info() if data is not None else None
    return (0, 0) if info is None else (info.id + 1, info.seed)


# derive_stream(DOMAINS["call"], worker, worker_seed) of this process, derived
# on first use: a process is one worker for its whole life.  A forked child
# (a DataLoader worker) derives its own; a spawned one starts without.
_process_stream = None


def _forget_process_stream():
    global _process_stream
    _process_stream = None


os.register_at_fork(after_in_child=_forget_process_stream)


class CallCounter:
    """The calls of one object made without an index (thread-safe)."""

    def __init__(self):
        self._count = itertools.count()

    def __reduce__(self):  # a copy (e.g. in a spawned worker) counts from 0 again
        return CallCounter, ()

    def next_index(self):
        """The index for the next call without one."""
        global _process_stream
        if _process_stream is None:
            _process_stream = _random.derive_stream(DOMAINS["call"], *_worker())
        return _random.derive_stream(_process_stream, next(self._count))

    def next_indices(self, n):
        """Indices for the next call on `n` items: the call's index + 0 .. n-1 (mod 2**64)."""
        return np.uint64(self.next_index()) + np.arange(n, dtype=np.uint64)
