"""Command line (stage: all): argparse, dispatch, the one error handler, exit codes.

Exit codes: 0 clean, 1 findings at or above --fail-on or hunks left unplaced, 2 usage or
input error (one line ``path:line: error: ...``), 3 internal error, 130 interrupted.
Nothing below this module calls sys.exit or sees an argparse.Namespace: each ``cmd_*``
turns the arguments into plain values and calls the library. Imports are lazy per
subcommand so ``--help`` and the git hook start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from . import __version__
from .errors import BackportError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2 through our handler."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from .errors import UsageError

        raise UsageError(f"{self.prog}: {message}")


def _common(p: argparse.ArgumentParser, *, tree: bool = True) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour on a terminal")
    p.add_argument("--fail-on", choices=("error", "warning", "note", "never"), default="error",
                   help="exit 1 when a finding of this severity or worse is raised (default error)")
    p.add_argument("--ignore", action="append", default=[], metavar="CODE", help="silence a finding code (repeatable)")
    p.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more output")
    if tree:
        p.add_argument("--onto", metavar="TREE", required=True,
                       help="target tree: a kernel source directory or git work tree")
        p.add_argument("--rev", metavar="REV", help="read the target git repo at this revision instead of its work tree")
        p.add_argument("--upstream", metavar="REPO",
                       help="upstream git repo (3-way bases from blob ids, commits that introduced what is "
                            "missing) or plain upstream directory (its files hashed against the blob ids)")
        p.add_argument("--config", metavar="FILE", help="the vendor .config of the target")
        p.add_argument("--kb", action="append", default=[], metavar="DIR", help="extra knowledge-base rule directory")
        p.add_argument("--min-confidence", type=float, default=0.8, metavar="X",
                       help="placements below this are not applied (default 0.8)")
        p.add_argument("--cache-max", metavar="SIZE",
                       help="cap of the index cache, least recently used evicted first (e.g. 4G, unlimited; "
                            "default $BACKPORT_CACHE_MAX, git config backport.cacheMax, else 4G)")


def _verify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--verify", choices=("build",), default=None,
                   help="build: compile the objects the port touches in an out-of-tree build dir "
                        "(cached; the tree is not written) and report errors and new warnings")
    p.add_argument("--arch", metavar="ARCH", default=None,
                   help="with --verify build: the tree's arch (x86_64, arm64, ...; default the host's); "
                        "the build uses --config, else the arch's defconfig")


def _series_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("series", nargs="+", metavar="SERIES",
                   help="mbox, .patch files, a directory of them, a quilt series dir, a quoted review reply, "
                        "or A..B with --upstream")


def _prereq_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--with-prereqs", action="store_true",
                   help="with --upstream: emit each small helper, macro or struct member the fix needs and the "
                        "target lacks as its own patch before the fix (Stable-dep-of)")


def build_parser() -> argparse.ArgumentParser:
    top = _Parser(prog="backport", description=(
        "Carry upstream Linux patch series onto older, diverged kernel trees. Every hunk is placed "
        "with a method, a confidence and evidence; doubtful placements and missing prerequisites "
        "become findings, never silent changes."))
    top.add_argument("--version", action="version", version=f"backport {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "show", help="print what was understood of a series",
        description="Print what was understood of a series: cover letter, each patch's subject, author, "
                    "trailers, upstream ids, files and hunks (-v adds messages and hunk headers, -vv hunk lines). "
                    "SERIES may be an mbox (git format-patch, b4), one or more .patch/.eml files, a directory of "
                    "them, a maildir, a quilt series directory (series or patches/series), git show or "
                    "git log -p output, a plain diff -u / git diff, a Debian DEP-3 patch, a review reply quoting "
                    "a patch, - for stdin, or an A..B commit range of the --upstream git repo.")
    p.add_argument("series", nargs="+", metavar="SERIES",
                   help="mbox, .patch/.eml files, a directory, maildir, quilt series dir, git show / git log -p "
                        "output, DEP-3 patch, quoted review reply, - for stdin, or A..B with --upstream")
    _common(p, tree=False)
    p.add_argument("--upstream", metavar="REPO", help="upstream git repo, for A..B ranges")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("port", help="map every hunk onto the target and write the ported patches")
    _series_args(p)
    _common(p)
    p.add_argument("--out", metavar="DIR", help="write NNNN-subject.patch, report.json, checklist.md, report.html here")
    p.add_argument("--apply", action="store_true", help="write the result into the target tree (atomically)")
    p.add_argument("--force", action="store_true", help="with --apply: accept a dirty git tree")
    p.add_argument("--signoff", metavar="NAME <MAIL>", nargs="?", const="", help="add the porter's Signed-off-by")
    _prereq_arg(p)
    _verify_args(p)
    p.set_defaults(func=cmd_port)

    p = sub.add_parser("check", help="map hunks and report findings, write nothing")
    _series_args(p)
    _common(p)
    _prereq_arg(p)
    _verify_args(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("deps", help="what the series needs that the target lacks (symbols, config, commits)")
    _series_args(p)
    _common(p)
    p.set_defaults(func=cmd_deps)

    p = sub.add_parser("checklist", help="print the reviewer checklist (Markdown)")
    _series_args(p)
    _common(p)
    p.set_defaults(func=cmd_checklist)

    p = sub.add_parser(
        "triage", help="a patch queue against a fleet of trees: status matrix, per-cell reports",
        description="Port every patch of QUEUE onto every tree of the fleet file and write matrix.json, "
                    "matrix.csv and matrix.html (patch rows x tree columns) plus, per cell, what `port --out` "
                    "writes. Finished cells are kept and skipped on the next run with the same inputs. "
                    "FLEET.yaml: 'trees:' items with name, path, optional rev (a git repo), arch, config; optional "
                    "'upstream:' and 'kb:'.")
    p.add_argument("queue", nargs="+", metavar="QUEUE", help="anything `port` reads: mbox, .patch files, a directory, "
                   "a quilt series (a stable queue), ...")
    p.add_argument("--trees", metavar="FLEET.yaml", required=True, help="the fleet file")
    p.add_argument("--out", metavar="DIR", required=True, help="matrix.{json,csv,html} and cells/<tree>/<patch>/")
    p.add_argument("--verify", choices=("none", "build"), default="none",
                   help="build: compile what each port touches in an out-of-tree build of the tree")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: a process per core (default); dask: Dask distributed")
    p.add_argument("--scheduler", metavar="ADDR", help="with --engine dask: tcp://host:8786 (default: a LocalCluster); "
                   "workers must see the trees and --out at the same paths")
    p.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: the cores)")
    p.add_argument("--order", choices=("auto", "series", "independent"), default="auto",
                   help="series: patch N on top of 1..N-1; independent: each patch alone (default auto: "
                        "series for one numbered series, independent for a queue of fixes)")
    p.add_argument("--upstream", metavar="REPO", help="upstream git repo (the fleet's upstream: wins)")
    p.add_argument("--kb", action="append", default=[], metavar="DIR", help="extra knowledge-base rule directory")
    p.add_argument("--min-confidence", type=float, default=0.8, metavar="X",
                   help="placements below this are not applied (default 0.8)")
    p.add_argument("--ignore", action="append", default=[], metavar="CODE", help="silence a finding code (repeatable)")
    p.add_argument("--fail-on", choices=("conflict", "never"), default="never",
                   help="conflict: exit 1 when a cell is conflict, needs-prereq, build-failed or error")
    p.add_argument("-q", "--quiet", action="count", default=0, help="no progress bar, no summary")
    p.set_defaults(func=cmd_triage)

    p = sub.add_parser("revert", help="undo a previous --apply from its record")
    p.add_argument("record", metavar="DIR", help="the target tree (or the --out dir) holding the apply record")
    p.add_argument("--force", action="store_true",
                   help="restore the originals even over files changed since the apply")
    p.set_defaults(func=cmd_revert)

    p = sub.add_parser("hook", help="install or remove the git am hooks in a target repo")
    hsub = p.add_subparsers(dest="hook_command", metavar="ACTION", parser_class=_Parser)
    hp = hsub.add_parser("install", help="install applypatch-msg, pre-applypatch and post-applypatch shims")
    hp.add_argument("--repo", default=".", help="target git repo (default .)")
    hp.add_argument("--mode", choices=("warn", "block"), default="warn", help="block stops git am on error findings")
    hp.set_defaults(func=cmd_hook_install)
    hp = hsub.add_parser("uninstall", help="remove the shims, restore hooks that were there")
    hp.add_argument("--repo", default=".", help="target git repo (default .)")
    hp.set_defaults(func=cmd_hook_uninstall)

    p = sub.add_parser("hook-impl", help=argparse.SUPPRESS)
    p.add_argument("hook_name")
    p.add_argument("hook_args", nargs="*")
    p.set_defaults(func=cmd_hook_impl)

    p = sub.add_parser("kb", help="the knowledge base: list, show or lint rules")
    ksub = p.add_subparsers(dest="kb_command", metavar="ACTION", parser_class=_Parser)
    for name, helptext in (("list", "list every rule id"), ("show", "show one rule"), ("lint", "validate rule files")):
        kp = ksub.add_parser(name, help=helptext)
        if name == "show":
            kp.add_argument("rule_id")
        kp.add_argument("--kb", action="append", default=[], metavar="DIR", help="extra rule directory")
        kp.add_argument("--format", choices=("text", "json"), default="text")
        kp.set_defaults(func=cmd_kb, kb_action=name)
    kp = ksub.add_parser("api", help="the API-evolution table: list it, or show one entry")
    kp.add_argument("api_action", nargs="?", choices=("list", "show"), default="list")
    kp.add_argument("entry_id", nargs="?", metavar="ID")
    kp.add_argument("--kb", action="append", default=[], metavar="DIR", help="extra kb directory (its api/ tables)")
    kp.add_argument("--format", choices=("text", "json"), default="text")
    kp.set_defaults(func=cmd_kb_api)

    p = sub.add_parser("cache", help="list or prune the cache (~/.cache/backport): indexes, build directories, upstream history")
    csub = p.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=_Parser)
    cp = csub.add_parser("list", help="every cache entry: kind, identity, tree, size, last used, in use")
    cp.add_argument("--format", choices=("text", "json"), default="text")
    cp.add_argument("--cache-dir", metavar="DIR", help="cache directory (default $XDG_CACHE_HOME/backport)")
    cp.set_defaults(func=cmd_cache, cache_action="list")
    cp = csub.add_parser("prune", help="drop stale entries and evict the least recently used to the cap")
    cp.add_argument("--max", metavar="SIZE", help="evict down to this size (default: the configured cap, 4G)")
    cp.add_argument("--cache-dir", metavar="DIR", help="cache directory (default $XDG_CACHE_HOME/backport)")
    cp.set_defaults(func=cmd_cache, cache_action="prune")

    p = sub.add_parser("demo", help="run `port` on the bundled example (examples/)")
    p.add_argument("--out", metavar="DIR", default=None, help="output directory (default: a temporary one)")
    p.set_defaults(func=cmd_demo)
    return top


# ---------------------------------------------------------------- command handlers


def _not_yet(name: str) -> int:
    from .errors import UsageError

    raise UsageError(f"'{name}' is not implemented yet")


def cmd_show(args: argparse.Namespace) -> int:
    from .ingest import load_series
    from .render.series import render_series_json, render_series_text
    from .safety import render_printable

    series = load_series(list(args.series), upstream=args.upstream)
    if not args.quiet:
        for w in series.warnings:
            print(render_printable(w), file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(render_series_json(series))
    else:
        sys.stdout.write(render_series_text(series, verbose=args.verbose))
    return EXIT_FINDINGS if series.warnings and args.fail_on in ("warning", "note") else EXIT_CLEAN


def cmd_port(args: argparse.Namespace) -> int:
    from .errors import ApplyError, UnsafePathError, UsageError
    from .ingest import load_series
    from .model import PortOptions
    from .pipeline import exit_code, find_refusal, is_worktree_head, port_series
    from .render.summary import DelayedProgress
    from .safety import render_printable
    from .target import load_tree

    series = load_series(args.series, upstream=args.upstream)
    if not args.quiet:
        for warning in series.warnings:
            print(render_printable(warning), file=sys.stderr)
    tree = load_tree(args.onto, args.rev)
    if args.apply and args.rev is not None and not is_worktree_head(tree):
        raise UsageError(f"--apply writes the work tree of {args.onto}, but --rev {args.rev} is not its HEAD; "
                         "check out that revision first, or drop --rev")
    if args.with_prereqs and not args.upstream:
        raise UsageError("--with-prereqs takes the helpers from the upstream base: give --upstream REPO or DIR")
    options = PortOptions(min_confidence=args.min_confidence, upstream=args.upstream, config=args.config,
                          kb_dirs=tuple(args.kb), ignore=tuple(args.ignore), with_prereqs=args.with_prereqs)
    if args.verify and args.rev is not None:
        raise UsageError("--verify build compiles the tree's files on disk; drop --rev or check that revision out")
    with DelayedProgress("porting") as progress:
        results = port_series(series, tree, options=options, progress=None if args.quiet else progress)
    if args.verify == "build":
        from .verify import prepare_build, verify_results

        build_dir = prepare_build(tree.root, args.arch, args.config)
        if args.verbose:
            print(f"build dir {build_dir.objdir} (ARCH={build_dir.arch}, {build_dir.config})", file=sys.stderr)
        with DelayedProgress("building") as progress:
            results = verify_results(results, tree.root, build_dir, options=options,
                                     progress=None if args.quiet else progress)
    if args.format == "json":
        from .render.report_json import render_json

        print(render_json(results, series))
    elif not args.quiet:
        from .render.summary import render_summary

        color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
        print(render_summary(results, color=color))
    if args.out:
        from .render.output import write_outputs

        for path in write_outputs(results, series, args.out, signoff=args.signoff, repo=args.onto):
            if args.verbose:
                print(f"wrote {render_printable(path)}", file=sys.stderr)
    if args.apply:
        from .apply import apply_results, write_apply_pointer

        refusal = find_refusal(results)
        if refusal is not None:
            f, n = refusal
            more = f" (and {n - 1} more)" if n > 1 else ""
            raise UnsafePathError(f"{f.code}: {render_printable(f.message)}{more}; nothing was written", f.ref)
        if exit_code(results, fail_on="error", min_confidence=args.min_confidence):
            raise ApplyError("not applied: some hunks are unplaced, held back or blocked (see the findings)")
        record = apply_results(tree.root, results, force=args.force)
        if args.out:
            write_apply_pointer(args.out, record)
        print(f"applied; undo record: {record}" + (f" (backport revert {args.out})" if args.out else ""),
              file=sys.stderr)
    return exit_code(results, fail_on=args.fail_on, min_confidence=args.min_confidence)


def cmd_check(args: argparse.Namespace) -> int:
    args.out, args.apply, args.force, args.signoff = None, False, False, None
    return cmd_port(args)


def cmd_deps(args: argparse.Namespace) -> int:
    from .deps import check_series, exit_status, render_deps_json, render_deps_text
    from .ingest import load_series
    from .model import PortOptions
    from .target import load_tree

    series = load_series(list(args.series), upstream=args.upstream)
    tree = load_tree(args.onto, args.rev)
    options = PortOptions(upstream=args.upstream, config=args.config, ignore=tuple(args.ignore),
                          extra={"deps-index": "whole"})
    results = check_series(series, tree, options=options)
    sys.stdout.write(render_deps_json(results) if args.format == "json" else render_deps_text(results))
    return exit_status(results, fail_on=args.fail_on)


def cmd_checklist(args: argparse.Namespace) -> int:
    from .ingest import load_series
    from .model import PortOptions
    from .pipeline import exit_code, port_series
    from .render.checklist import render_checklist
    from .target import load_tree

    series = load_series(list(args.series), upstream=args.upstream)
    tree = load_tree(args.onto, args.rev)
    options = PortOptions(min_confidence=args.min_confidence, upstream=args.upstream, config=args.config,
                          kb_dirs=tuple(args.kb), ignore=tuple(args.ignore))
    results = port_series(series, tree, options=options)
    if args.format == "json":
        from .render.report_json import render_json

        sys.stdout.write(render_json(results, series))
    else:
        sys.stdout.write(render_checklist(results, series))
    return exit_code(results, fail_on=args.fail_on, min_confidence=args.min_confidence)


def cmd_triage(args: argparse.Namespace) -> int:
    from .errors import UsageError
    from .ingest import load_series
    from .model import PortOptions
    from .safety import render_printable
    from .triage import DaskEngine, LocalEngine, load_fleet, run_triage
    from .triage.progress import TriageProgress

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.scheduler and args.engine != "dask":
        raise UsageError("--scheduler needs --engine dask")
    fleet = load_fleet(args.trees)
    series = load_series(args.queue, upstream=args.upstream or fleet.upstream)
    if not args.quiet:
        for warning in series.warnings:
            print(render_printable(warning), file=sys.stderr)
    options = PortOptions(min_confidence=args.min_confidence, upstream=args.upstream, kb_dirs=tuple(args.kb),
                          ignore=tuple(args.ignore))
    engine = (DaskEngine(args.scheduler, args.jobs) if args.engine == "dask" else LocalEngine(args.jobs))
    with TriageProgress(enabled=False if args.quiet else None) as progress:
        run = run_triage(series, fleet, args.out, options=options, engine=engine, order=args.order,
                         verify=None if args.verify == "none" else args.verify, progress=progress)
    counts: dict[str, int] = {}
    for r in run.records:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if not args.quiet:
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        print(f"backport triage: {len(run.records)} cells ({run.computed} computed, {run.reused} reused, "
              f"{run.seconds:.1f} s): {summary}; {args.out}/matrix.html", file=sys.stderr)
    bad = {"conflict", "needs-prereq", "build-failed", "error"}
    return EXIT_FINDINGS if args.fail_on == "conflict" and bad & set(counts) else EXIT_CLEAN


def cmd_revert(args: argparse.Namespace) -> int:
    from .apply import revert_apply

    restored = revert_apply(args.record, force=bool(getattr(args, "force", False)))
    for path in restored:
        print(f"restored {path}")
    print(f"backport: reverted {len(restored)} file(s)", file=sys.stderr)
    return EXIT_CLEAN


def cmd_hook_install(args: argparse.Namespace) -> int:
    from .hook import install_hooks

    for path in install_hooks(args.repo, mode=args.mode):
        print(f"installed {path}", file=sys.stderr)
    print(f"git am in {args.repo} now checks each patch (mode {args.mode}; git config backport.hookMode)",
          file=sys.stderr)
    return EXIT_CLEAN


def cmd_hook_uninstall(args: argparse.Namespace) -> int:
    from .hook import uninstall_hooks

    removed = uninstall_hooks(args.repo)
    for path in removed:
        print(f"removed {path}", file=sys.stderr)
    if not removed:
        print(f"no backport hook installed in {args.repo}", file=sys.stderr)
    return EXIT_CLEAN


def cmd_hook_impl(args: argparse.Namespace) -> int:
    from .hook import run_hook

    return run_hook(args.hook_name, list(args.hook_args))


def cmd_kb(args: argparse.Namespace) -> int:
    import json

    from kb.api import check_api_files, load_api
    from kb.loader import check_rule_files, find_rule, load_rules, render_rule, render_rule_list, rule_as_dict

    from .errors import UsageError

    dirs = tuple(args.kb)
    if args.kb_action == "lint":
        problems = check_rule_files(dirs) + check_api_files(dirs)
        if args.format == "json":
            print(json.dumps({"schema_version": 1, "problems": list(problems)}, indent=2))
        for line in problems:
            print(line, file=sys.stderr)
        if not problems:
            print(f"{len(load_rules(dirs))} rules, {len(load_api(dirs))} API entries, no problems", file=sys.stderr)
        return EXIT_FINDINGS if problems else EXIT_CLEAN
    if args.kb_action == "show":
        rule = find_rule(args.rule_id, dirs)
        if rule is None:
            raise UsageError(f"no rule {args.rule_id!r} (see `backport kb list`)")
        if args.format == "json":
            print(json.dumps(rule_as_dict(rule), indent=2))
        else:
            print(render_rule(rule), end="")
        return EXIT_CLEAN
    rules = load_rules(dirs)
    if args.format == "json":
        print(json.dumps({"schema_version": 1, "rules": [rule_as_dict(r) for r in rules]}, indent=2))
    else:
        print(render_rule_list(rules), end="")
    return EXIT_CLEAN


def cmd_kb_api(args: argparse.Namespace) -> int:
    import json

    from kb.api import api_entry_as_dict, load_api, render_api_entry, render_api_list

    from .errors import UsageError

    entries = load_api(tuple(args.kb))
    if args.api_action == "show" or args.entry_id:
        entry = next((e for e in entries if e.id == args.entry_id), None)
        if entry is None:
            raise UsageError(f"no API entry {args.entry_id!r} (see `backport kb api list`)")
        print(json.dumps(api_entry_as_dict(entry), indent=2) if args.format == "json" else render_api_entry(entry),
              end="\n" if args.format == "json" else "")
        return EXIT_CLEAN
    if args.format == "json":
        print(json.dumps({"schema_version": 1, "entries": [api_entry_as_dict(e) for e in entries]}, indent=2))
    else:
        print(render_api_list(entries), end="")
    return EXIT_CLEAN


def cmd_cache(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from . import cache
    from .index import SCHEMA, default_cache_dir

    cdir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    if args.cache_action == "prune":
        cap = cache.parse_size(args.max, what="--max") if args.max else cache.cache_max()
        removed, freed = cache.prune(cdir, cap, schema=str(SCHEMA))
        for path in removed:
            print(f"removed {path}", file=sys.stderr)
        left = sum(e.size for e in cache.list_entries(cdir))
        print(f"backport: freed {cache.format_size(freed)}; {cache.format_size(left)} left in {cdir}"
              + (f" (cap {cache.format_size(cap)})" if cap is not None else ""), file=sys.stderr)
        return EXIT_CLEAN
    entries = cache.list_entries(cdir)
    if args.format == "json":
        print(json.dumps({"schema_version": 1, "cache_dir": str(cdir), "entries": [
            {"file": e.path.name, "kind": e.kind, "identity": e.key, "tree": e.tree, "bytes": e.size,
             "last_used": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(e.last_used)), "in_use": e.in_use,
             "schema": e.schema} for e in entries]}, indent=2))
        return EXIT_CLEAN
    from .safety import render_printable

    if entries:
        print(f"{'ENTRY':24}  {'KIND':8}  {'SIZE':>7}  {'LAST USED':16}  {'':6}  TREE  IDENTITY")
    for e in entries:
        tree = e.tree.partition(":")[2] or "?"
        print(f"{e.path.stem:24}  {e.kind:8}  {cache.format_size(e.size):>7}  "
              f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(e.last_used))}"
              f"  {'in use' if e.in_use else '      '}  {render_printable(tree)}  {e.key or '?'}")
    total = sum(e.size for e in entries)
    cap = cache.cache_max()
    kinds = ", ".join(f"{sum(e.kind == k for e in entries)} {k}" for k in ("index", "build", "upstream"))
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} ({kinds}), {cache.format_size(total)} in {cdir}"
          + (f" (cap {cache.format_size(cap)})" if cap is not None else " (no cap)"), file=sys.stderr)
    return EXIT_CLEAN


def cmd_demo(args: argparse.Namespace) -> int:
    from kb.example import render_demo, run_demo

    run = run_demo(args.out)
    print(f"backport demo: {run.example}/series.mbox --onto {run.example}/tree", file=sys.stderr)
    print(render_demo(run, color=sys.stdout.isatty()))
    return EXIT_CLEAN


# ---------------------------------------------------------------- entry point


def _tolerate_undecodable_output() -> None:
    """Paths from patches and trees may hold bytes that are not UTF-8 (kept as surrogates):
    write them back as the bytes they were on a UTF-8 stream, escaped on any other."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
        try:
            reconfigure(errors="surrogateescape" if utf8 else "backslashreplace")
        except (ValueError, OSError):
            pass


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch, and map every exception class to its exit code (the one handler)."""
    _tolerate_undecodable_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
        if func is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if getattr(args, "cache_max", None) is not None:
            from .cache import configure

            configure(args.cache_max)
        return func(args)
    except BackportError as e:
        print(f"backport: {e}" if e.ref is None else str(e), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("backport: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except Exception as e:  # noqa: BLE001 - the one place that catches everything
        print(f"backport: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        if os.environ.get("BACKPORT_DEBUG"):
            traceback.print_exc()
        return EXIT_INTERNAL
