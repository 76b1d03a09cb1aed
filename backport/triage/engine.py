"""Engines that run triage cells (stage: triage): a local process pool, or Dask distributed.

Inputs: the CellSpecs still to compute, the output directory, a callback for each finished
record. Outputs: the records, through the callback, as cells finish; each cell is committed to
disk by the worker that computed it (backport.triage.cell.do_cell), so the engine only
schedules. Both engines run the same task on the same specs, so the matrix does not depend on
which one ran it (only the timings do).

Tree locality: ``plan_queues`` gives every worker the cells of a few trees, contiguous and in
queue order. With at least as many trees as workers each tree goes whole to one worker
(largest first onto the least loaded); with fewer, a tree's cells are split into contiguous
runs over several workers. A worker thus opens, indexes and (with ``--verify build``) prepares
each of its trees once. ``LocalEngine`` keeps one single-process pool per worker and, when a
worker runs dry, lets it take the last half of the longest other queue (one more index load
instead of an idle core). ``DaskEngine`` submits each cell restricted to its worker
(``workers=[addr]``, ``allow_other_workers=True`` so a lost or slow worker's cells can still
move) with the queue position as priority.

With ``--scheduler tcp://host:8786`` the workers must see the trees, the fleet's configs and the
output directory at the same paths (a shared filesystem) and run the same backport version.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import UsageError
from .cell import CellSpec, base_record, do_cell

Record = dict[str, Any]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def plan_queues(specs: Sequence[CellSpec], workers: int) -> list[list[CellSpec]]:
    """One queue per worker, tree-affine (see the module docstring); deterministic."""
    by_tree: dict[str, list[CellSpec]] = {}
    for s in specs:
        by_tree.setdefault(s.tree.name, []).append(s)
    queues: list[list[CellSpec]] = [[] for _ in range(max(1, workers))]
    if not by_tree:
        return queues
    trees = sorted(by_tree, key=lambda t: (-len(by_tree[t]), t))
    if len(trees) >= len(queues):
        for t in trees:
            min(queues, key=len).extend(by_tree[t])
        return queues
    total = len(specs)
    shares = {t: max(1, len(queues) * len(by_tree[t]) // total) for t in trees}
    spare = len(queues) - sum(shares.values())
    for t in trees:  # the workers left over go to the biggest trees
        if spare <= 0:
            break
        shares[t] += 1
        spare -= 1
    slot = 0
    for t in trees:
        cells, k = by_tree[t], shares[t]
        size = -(-len(cells) // k)
        for j in range(k):
            if slot < len(queues):
                queues[slot].extend(cells[j * size:(j + 1) * size])
                slot += 1
    return queues


def _failed(spec: CellSpec, error: BaseException) -> Record:
    """The record of a cell whose task died (not written to disk: the next run retries it)."""
    return {**base_record(spec), "status": "error", "reason": f"{type(error).__name__}: {error}",
            "port_status": "", "findings": {"error": 0, "warning": 0, "note": 0, "codes": {}},
            "hunks": {"total": 0, "applied": 0}, "seconds": 0.0, "timing": {}, "links": {"dir": spec.dirname}}


class LocalEngine:
    """A process per core (``jobs``), each holding its trees; ``jobs=1`` runs in this process."""

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        self.workers = jobs or default_jobs()

    def run(self, specs: Sequence[CellSpec], out_dir: str, done: Callable[[Record], None]) -> None:
        if not specs:
            return
        if self.workers == 1:
            for s in specs:
                try:
                    done(do_cell(s, out_dir))
                except Exception as e:  # noqa: BLE001 - the run goes on; the cell is retried next time
                    done(_failed(s, e))
            return
        queues = [deque(q) for q in plan_queues(specs, self.workers)]
        ctx = multiprocessing.get_context("spawn")  # the driver may hold threads (progress bar)
        pools = [ProcessPoolExecutor(max_workers=1, mp_context=ctx) for _ in queues]
        running: dict[Future[Record], tuple[int, CellSpec, ProcessPoolExecutor]] = {}
        inflight = [0] * len(queues)

        def feed(w: int) -> None:
            while inflight[w] < 2:
                if not queues[w]:
                    victim = max(range(len(queues)), key=lambda v: len(queues[v]))
                    n = len(queues[victim])
                    if n < 2 or inflight[w]:
                        return
                    take = [queues[victim].pop() for _ in range(n // 2)]
                    queues[w].extend(reversed(take))
                spec = queues[w].popleft()
                running[pools[w].submit(do_cell, spec, out_dir)] = (w, spec, pools[w])
                inflight[w] += 1

        try:
            for w in range(len(queues)):
                feed(w)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    w, spec, pool = running.pop(fut)
                    inflight[w] -= 1
                    try:
                        done(fut.result())
                    except Exception as e:  # noqa: BLE001 - the cell is recorded as an error, retried next run
                        done(_failed(spec, e))
                        if isinstance(e, BrokenProcessPool) and pool is pools[w]:  # its process died: a new one
                            pools[w] = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
                    feed(w)
        finally:
            for p in pools:
                p.shutdown(wait=False, cancel_futures=True)


class DaskEngine:
    """Dask distributed: a LocalCluster of ``jobs`` workers, or the cluster at ``scheduler``."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, jobs: int | None = None, *, processes: bool = True) -> None:
        self.scheduler = scheduler
        self.jobs = jobs or default_jobs()
        self.processes = processes
        self.workers = self.jobs

    def _client(self) -> tuple[Any, Any]:
        import logging

        try:
            from distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - a dependency of the package
            raise UsageError(f"--engine dask needs the 'distributed' package ({e})") from None
        if self.scheduler:
            try:
                return Client(self.scheduler, timeout="20s"), None
            except OSError as e:
                raise UsageError(f"--scheduler {self.scheduler}: cannot connect ({e})") from None
        cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=self.processes,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster

    def run(self, specs: Sequence[CellSpec], out_dir: str, done: Callable[[Record], None]) -> None:
        if not specs:
            return
        from distributed import as_completed

        client, cluster = self._client()
        try:
            addrs = sorted(client.scheduler_info()["workers"])
            if not addrs:
                raise UsageError(f"no Dask worker is connected to {self.scheduler or 'the local cluster'}")
            self.workers = len(addrs)
            futures = {}
            for addr, queue in zip(addrs, plan_queues(specs, len(addrs)), strict=True):
                for pos, spec in enumerate(queue):
                    fut = client.submit(do_cell, spec, out_dir, key=f"triage-{spec.index}-{spec.key}", workers=[addr],
                                        allow_other_workers=True, priority=-pos, pure=False)
                    futures[fut] = spec
            for fut in as_completed(list(futures)):
                try:
                    done(fut.result())
                except Exception as e:  # noqa: BLE001 - a lost task: record, the next run retries it
                    done(_failed(futures[fut], e))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
