"""Target index (stage: target): what a kernel tree defines and how it is built, cached on disk.

Inputs: a model.TargetTree (plain directory, git revision or memory), optionally a vendor
``.config``. Outputs: a TreeIndex answering "does the target define symbol X / Kconfig option Y /
Makefile variable Z", backed by one sqlite file per tree identity under
``$XDG_CACHE_HOME/backport`` (or ``~/.cache/backport``), kept under a size cap with
least-recently-used eviction that never removes an index a process has open (backport.cache).

Why a line/regex scanner and not tree-sitter for the whole tree: a full kernel holds ~55k C files
(1.3 GB); a tree-sitter parse plus a Python walk of every node costs minutes on two cores, while
the definitions deps needs (functions, prototypes, macros, tags, members, enumerators, typedefs,
globals, exports, asm labels, Kconfig symbols, Kbuild variables) sit in a few regular shapes of
kernel style (column-0 declarations, ``#define``, ``struct x {``). The scanner over-approximates
(a false definition only hides an alarm; a missed one raises a false alarm) and runs on 2 worker
processes (the scanners live in backport.scan). Precision where it matters is recovered in deps,
which reads the few target files a patch touches in full.

Lazy mode: ``lazy_paths(tree, touched)`` names what a series needs (include/, arch/*/include,
the touched directories, every Kconfig and Kbuild file): a partial in-memory index of those
builds in seconds and grows with ``TreeIndex.extend`` as later patches touch other places.

Public API (for deps, kb rules and the pipeline)::

    load_index(tree, *, cache_dir=None, config=None, paths=None, rebuild=False) -> TreeIndex
        (a changed directory updates its previous index in place: one stat walk, changed files rescanned)
    find_cached_index(tree, *, cache_dir=None) -> Path | None
    lazy_paths(tree, touched) -> list[str];  TreeIndex.extend(paths) -> int
    TreeIndex.defines(name) -> list[Definition]        # not struct members
    TreeIndex.members(name) -> list[Definition]        # struct/union members of that name
    TreeIndex.has(name) -> bool
    TreeIndex.kconfig(name) -> KconfigSymbol | None    # "FOO" or "CONFIG_FOO"
    TreeIndex.makefile_vars(glob="*") / .makefile_flags() / .cflags_remove(obj_glob="*")
    TreeIndex.cc_options() -> list[MakeVar]            # assignments testing $(call cc-option,...)
    TreeIndex.gating_configs(path) / .is_built(path) / .config_value(name)
    TreeIndex.similar(name, limit=3, score_cutoff=80.0) -> list[tuple[str, float]]
    TreeIndex.version -> (VERSION, PATCHLEVEL, SUBLEVEL) | None

Modules, by stage: ``schema`` (layout version, kind codes, path encoding, DDL, value types),
``rows`` (files scanned into rows, in worker processes), ``build`` (a whole tree, or the files
that changed, into a database), ``query`` (TreeIndex), ``dotconfig`` (a vendor .config) and
``store`` (the on-disk cache: identity, lookup, load, build under a lock). The names callers
use are re-exported here, so they import from ``backport.index``; a test that monkeypatches a
function patches it in the sub-module that looks it up.
"""

from __future__ import annotations

from ..scan import (  # re-exported: the scanners are part of the index's public surface
    C_WORDS,
    file_class,
    scan_asm,
    scan_asm_offsets,
    scan_c,
    scan_file,
    scan_kbuild,
    scan_kconfig,
)
from ..scan import find_body_words as find_body_words
from .build import build_index_db as build_index_db
from .build import lazy_paths as lazy_paths
from .build import update_index_db as update_index_db
from .dotconfig import RE_DOTCONFIG as RE_DOTCONFIG
from .dotconfig import load_dotconfig
from .query import TreeIndex
from .rows import _scan_git as _scan_git  # tests/test_index.py
from .schema import BULK_MACROS as BULK_MACROS
from .schema import KIND_CODE as KIND_CODE
from .schema import KINDS as KINDS
from .schema import MEMBER as MEMBER
from .schema import SCHEMA as SCHEMA
from .schema import Definition, KconfigSymbol, MakeVar
from .schema import name_hash as name_hash
from .store import default_cache_dir as default_cache_dir
from .store import find_cached_index as find_cached_index
from .store import load_index, tree_key

__all__ = ["C_WORDS", "Definition", "KconfigSymbol", "MakeVar", "TreeIndex", "file_class", "load_dotconfig",
           "load_index", "scan_asm", "scan_asm_offsets", "scan_c", "scan_file", "scan_kbuild", "scan_kconfig",
           "tree_key"]
