"""One thread that runs every forward pass of a model on the CPU.

A threaded Dask worker runs its tasks in several threads, so a model shared by
them (one cached encoder per process) was driven from whichever thread ran the
task. On the CPU that cost speed: each calling thread gets its own OpenMP team
and its own malloc arena, and forwards from a thread that had not run the model
lately were slow for a few batches (DINOv2 ViT-S/14, batch 32, 2 cores: the
first forwards of each task's thread took 5.7-7.0 s against a steady 3.1-3.8 s).
Routing every forward through one long-lived thread keeps that state warm.

torch's intra-op thread count is per calling thread; the forward thread takes
the caller's count before each call.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class ForwardThread:
    """Run callables one at a time in one dedicated thread, with the caller's torch threads."""

    def __init__(self, name: str = "forward") -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._threads = 0  # torch intra-op threads last set in the forward thread

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` in the forward thread (blocks; its exception is raised here)."""
        import torch

        threads = torch.get_num_threads()

        def run() -> T:
            if threads != self._threads:
                torch.set_num_threads(threads)
                self._threads = threads
            return fn()

        return self._pool.submit(run).result()

    def close(self) -> None:
        """Let the thread end (it ends by itself when the process exits)."""
        self._pool.shutdown(wait=False)
