"""Fleet triage (stage: triage): a patch queue against many trees -> a status matrix.

Inputs: a queue (anything ``backport port`` reads), a fleet file (backport.triage.fleet),
options and an engine. Outputs: ``OUT/matrix.{json,csv,html}`` and, per cell,
``OUT/cells/<tree>/<NNNN-subject>/`` with what ``port --out`` writes plus ``cell.json``.

Modules: ``fleet`` (the YAML fleet file, schema-checked), ``cell`` (one patch on one tree:
port, classify, write atomically), ``run`` (keys, resume, the queue order, the driver),
``engine`` (local process pool, Dask distributed, tree-affine queues), ``matrix`` (render).
"""

from __future__ import annotations

from .cell import STATUSES, CellSpec, classify, run_cell
from .engine import DaskEngine, LocalEngine, plan_queues
from .fleet import Fleet, TreeSpec, load_fleet, parse_fleet
from .run import TriageRun, queue_order, run_triage

__all__ = ["STATUSES", "CellSpec", "DaskEngine", "Fleet", "LocalEngine", "TreeSpec", "TriageRun", "classify",
           "load_fleet", "parse_fleet", "plan_queues", "queue_order", "run_cell", "run_triage"]
