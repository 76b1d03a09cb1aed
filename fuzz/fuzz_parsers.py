#!/usr/bin/env python3
"""Fuzzing of backport's parsers (stage: hardening; a tool, not part of the package).

Targets: parse_diff, parse_diff_lenient, parse_series_bytes, safety.check_diff_text, and
port_series (ingest + placement + deps/kb checks on a small in-memory tree).
Inputs: a budget (``--examples`` per hypothesis target, ``--mutations`` per mutation target),
seed corpora (tests/samples/*.diff, examples/, the bench's upstream.patch files when present).
Outputs: on stdout, per target, the count of inputs tried, crashes (any exception that is not
a ``BackportError``), the slowest input; crashing inputs are saved under ``--crash-dir``
(default fuzz/crashes/, not committed) with their traceback. Exit 1 when anything crashed.

Two engines: hypothesis (the generators of tests/test_fuzz_properties.py, structure-aware
noise) and a seeded mutation fuzzer over real patches (bit flips, truncation, line
duplication/deletion/splicing, CRLF/NUL/long-line injection, header swaps), since a real
patch with one byte wrong reaches much deeper than random bytes.

    /tmp/venv/bin/python fuzz/fuzz_parsers.py --examples 20000 --mutations 20000
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_fuzz_properties import DIFF_BYTES, DIFF_TEXT, MAIL_BYTES, perturbed_diff, well_formed_diff  # noqa: E402

from backport.errors import BackportError  # noqa: E402
from backport.ingest import parse_series_bytes  # noqa: E402
from backport.model import PortOptions  # noqa: E402
from backport.pipeline import port_series  # noqa: E402
from backport.safety import check_diff_text  # noqa: E402
from backport.series import parse_diff, parse_diff_lenient  # noqa: E402
from backport.target import MemoryTree  # noqa: E402

SLOW_SECONDS = 2.0


@dataclass
class Stats:
    name: str
    tried: int = 0
    rejected: int = 0  # BackportError: a clean refusal
    crashes: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # signature -> (input, traceback)
    slowest: float = 0.0
    slowest_size: int = 0


def _signature(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    where = next((f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb) if "backport" in f.filename), "?")
    return f"{type(exc).__name__} at {where}"


def run_one(stats: Stats, target: Callable[[bytes], object], data: bytes) -> None:
    stats.tried += 1
    start = time.perf_counter()
    try:
        target(data)
    except BackportError:
        stats.rejected += 1
    except RecursionError as e:  # a crash too, but keep the stack short in the report
        stats.crashes.setdefault(_signature(e), (data, "RecursionError"))
    except Exception as e:  # noqa: BLE001 - that is what we are hunting
        stats.crashes.setdefault(_signature(e), (data, traceback.format_exc()))
    took = time.perf_counter() - start
    if took > stats.slowest:
        stats.slowest, stats.slowest_size = took, len(data)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


_TREE: list[MemoryTree] = []


def _port(data: bytes) -> object:
    """Ingest, then place every hunk on a small tree holding the pre-images of the corpus."""
    if not _TREE:
        files = {"Makefile": "VERSION = 4\nPATCHLEVEL = 9\nSUBLEVEL = 0\n"}
        for seed in load_corpus(100):
            try:
                series = parse_series_bytes(seed, origin="seed")
            except BackportError:
                continue
            for fp in (fp for p in series.patches for fp in p.files if fp.hunks and fp.path):
                files.setdefault(fp.path, "".join(ln + "\n" for h in fp.hunks for ln in h.old_lines))
        _TREE.append(MemoryTree(files))
    series = parse_series_bytes(data, origin="fuzz")
    return port_series(series, _TREE[0], options=PortOptions(checks=len(data) % 3 == 0))


TARGETS: dict[str, Callable[[bytes], object]] = {
    "parse_diff": lambda d: parse_diff(_text(d), origin="fuzz"),
    "parse_diff_lenient": lambda d: parse_diff_lenient(_text(d), origin="fuzz"),
    "parse_series_bytes": lambda d: parse_series_bytes(d, origin="fuzz"),
    "check_diff_text": lambda d: check_diff_text(_text(d), origin="fuzz"),
    "port_series": _port,
}


# ---------------------------------------------------------------- engine 1: hypothesis


def hypothesis_engine(stats: Stats, target: Callable[[bytes], object], examples: int) -> None:
    def as_bytes(text: str) -> bytes:
        return text.encode("utf-8", "surrogatepass")

    strategy = st.one_of(DIFF_BYTES, MAIL_BYTES, DIFF_TEXT.map(as_bytes), well_formed_diff().map(as_bytes),
                         perturbed_diff().map(as_bytes), perturbed_diff().map(as_bytes))

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def body(data: bytes) -> None:
        run_one(stats, target, data)

    body()


# ---------------------------------------------------------------- engine 2: mutations of real patches


def load_corpus(limit: int = 400) -> list[bytes]:
    seeds: list[bytes] = []
    for pattern in ("tests/samples/*", "tests/cases/*/*.patch", "tests/cases/*/*.mbox", "tests/cases/*/*.eml",
                    "examples/**/*.patch", "examples/**/*.mbox"):
        seeds += [p.read_bytes() for p in sorted(ROOT.glob(pattern)) if p.is_file()]
    seeds += [p.read_bytes() for p in sorted((ROOT.parent / "shared" / "seeds").glob("*.txt"))]  # list threads
    bench = ROOT.parent / "shared" / "bench" / "public"
    if bench.is_dir():
        seeds += [p.read_bytes() for p in sorted(bench.glob("*/upstream.patch"))[:limit]]
    mail = (b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\n"
            b"Subject: [PATCH 1/1] x: y\nContent-Type: text/plain; charset=utf-8\n\nBody.\n\nSigned-off-by: A\n---\n")
    seeds += [mail + s for s in seeds[:50]]
    return seeds or [b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"]


INJECT = [b"\x00", b"\r", b"\r\n", b"\\ No newline at end of file\n", b"@@ -1,99999 +1 @@\n", b"\xff\xfe",
          b"diff --git a/../x b/../x\n", b"GIT binary patch\nliteral 3\n", b"--- /dev/null\n", b"+++ b/\n",
          b"Content-Type: multipart/mixed; boundary=Z\n", b"--Z\n", b"=?utf-8?B?", b"\t", b"-- \n",
          b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n", b"x" * 70000]


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        b = bytearray(b"\n".join(lines))
        if op == 0 and b:  # flip bytes
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            lines = bytes(b).split(b"\n")
        elif op == 1:  # truncate
            lines = lines[: rng.randint(0, len(lines))]
        elif op == 2 and lines:  # duplicate a line
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
        elif op == 3 and lines:  # delete a line
            del lines[rng.randrange(len(lines))]
        elif op == 4:  # inject a nasty fragment
            lines.insert(rng.randint(0, len(lines)), rng.choice(INJECT).rstrip(b"\n"))
        elif op == 5 and lines:  # change a hunk count
            i = rng.randrange(len(lines))
            if lines[i].startswith(b"@@"):
                lines[i] = lines[i].replace(b",", b",%d" % rng.randint(0, 9), 1)
        elif op == 6:  # splice with another seed
            other = rng.choice(corpus).split(b"\n")
            cut = rng.randint(0, len(lines))
            lines = lines[:cut] + other[rng.randint(0, len(other)) :]
        elif op == 7 and lines:  # swap the diff prefix of a line
            i = rng.randrange(len(lines))
            lines[i] = rng.choice([b" ", b"+", b"-", b"\\", b"> ", b""]) + lines[i][1:]
        elif op == 8:  # CRLF everywhere, or on some lines
            lines = [ln + b"\r" if rng.random() < 0.5 else ln for ln in lines]
    return b"\n".join(lines)


def mutation_inputs(seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    corpus = load_corpus()
    for _ in range(count):
        yield mutate(rng, rng.choice(corpus), corpus)


# ---------------------------------------------------------------- report


def save_crashes(stats: Stats, crash_dir: Path) -> list[str]:
    saved = []
    for sig, (data, tb) in stats.crashes.items():
        crash_dir.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha1(data).hexdigest()[:12]
        (crash_dir / f"{stats.name}-{key}.input").write_bytes(data)
        (crash_dir / f"{stats.name}-{key}.txt").write_text(f"{sig}\n\n{tb}")
        saved.append(f"{sig} -> {crash_dir / (stats.name + '-' + key + '.input')}")
    return saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=2000, help="hypothesis examples per target")
    ap.add_argument("--mutations", type=int, default=2000, help="mutated real patches per target")
    ap.add_argument("--seed", type=int, default=1, help="seed of the mutation fuzzer")
    ap.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these targets")
    ap.add_argument("--crash-dir", default=str(ROOT / "fuzz" / "crashes"))
    args = ap.parse_args(argv)
    total_tried = total_crashes = 0
    for name in args.target or list(TARGETS):
        target = TARGETS[name]
        for engine in ("hypothesis", "mutation"):
            stats = Stats(f"{name}.{engine}")
            start = time.perf_counter()
            if engine == "hypothesis" and args.examples:
                hypothesis_engine(stats, target, args.examples)
            elif engine == "mutation":
                for data in mutation_inputs(args.seed, args.mutations):
                    run_one(stats, target, data)
            took = time.perf_counter() - start
            total_tried += stats.tried
            total_crashes += len(stats.crashes)
            print(f"{stats.name:34} tried {stats.tried:7d}  refused {stats.rejected:7d}  crashes {len(stats.crashes):3d}"
                  f"  slowest {stats.slowest:6.3f}s ({stats.slowest_size} bytes)  in {took:6.1f}s", flush=True)
            for line in save_crashes(stats, Path(args.crash_dir)):
                print(f"    CRASH {line}", flush=True)
            if stats.slowest > SLOW_SECONDS:
                print(f"    SLOW: an input of {stats.slowest_size} bytes took {stats.slowest:.1f}s", flush=True)
    print(f"total: {total_tried} inputs, {total_crashes} distinct crashes")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    raise SystemExit(main())
