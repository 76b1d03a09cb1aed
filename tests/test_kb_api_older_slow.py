"""The older-target entries of the API table (session 7) against real trees: for each entry,
what the target detection says on Ubuntu 4.4 / 4.15, Debian 5.10, Ubuntu jammy 5.15, Debian 6.1
and 6.12: `has` (the new form is there: nothing to rewrite), `old` (lacks it and has what the old
form needs: rewritten) or `report` (lacks both, or the entry must be open-coded: api-missing).
A wrong marker rewrites correct code or leaves a build error, so every cell was checked against
the tree by hand (grep of the definition) before it was written here; stable and Ubuntu
backports (kref_read in Ubuntu 4.4, vmalloc_array in 5.10, scsi_done in jammy) are the
trees' facts, not the version number's.

Slow: needs the trees of ../shared/bench/get-tree.sh and their cached indexes (-m slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backport.apiadapt import _Target
from backport.model import Patch, PortOptions
from backport.target import DirTree
from kb.api import load_api

TREES = Path.home() / ".cache" / "kbench" / "trees"
NAMES = ("ubuntu-4.4.0-210", "ubuntu-4.15.0-213", "5.10.251-5", "jammy-5.15.0-185", "6.1.170-3",
         "6.12.107-1~deb12u1")

pytestmark = pytest.mark.slow

H, OLD, R = "has", "old", "report"
#                                   4.4 4.15 5.10 5.15 6.1 6.12
EXPECTED = {
    "api-vm-fault-t":                (OLD, OLD, H, H, H, H),
    "api-kvmalloc-array":            (R, H, H, H, H, H),
    "api-vmalloc-array":             (R, OLD, H, H, H, H),   # 5.10.y / 5.15.y: backported
    "api-vcalloc":                   (R, OLD, H, H, H, H),
    "api-krealloc-array":            (R, OLD, OLD, H, H, H),   # 4.4 has no overflow.h; Ubuntu 4.15 does
    "api-flex-array-size":           (OLD, OLD, H, H, H, H),
    "api-copy-from-kernel-nofault":  (OLD, OLD, H, H, H, H),
    "api-copy-to-kernel-nofault":    (OLD, OLD, H, H, H, H),
    "api-kfree-rcu-mightsleep":      (R, R, H, H, H, H),   # 4.x: no single-argument kvfree_rcu
    "api-kvfree-rcu-mightsleep":     (R, R, H, H, H, H),
    "api-epoll-in":                  (OLD, OLD, H, H, H, H),
    "api-epoll-out":                 (OLD, OLD, H, H, H, H),
    "api-epoll-pri":                 (OLD, OLD, H, H, H, H),
    "api-epoll-err":                 (OLD, OLD, H, H, H, H),
    "api-epoll-hup":                 (OLD, OLD, H, H, H, H),
    "api-epoll-rdnorm":              (OLD, OLD, H, H, H, H),
    "api-epoll-wrnorm":              (OLD, OLD, H, H, H, H),
    "api-epoll-rdhup":               (OLD, OLD, H, H, H, H),
    "api-kernel-read-pos":           (R, H, H, H, H, H),
    "api-kernel-write-pos":          (R, H, H, H, H, H),
    "api-define-show-attribute":     (R, R, H, H, H, H),
    "api-memset-after":              (OLD, OLD, OLD, OLD, H, H),
    "api-memset-startat":            (OLD, OLD, OLD, OLD, H, H),
    "api-kref-read":                 (H, H, H, H, H, H),   # Ubuntu 4.4 carries it; 4.9 lacks it
    "api-list-count-nodes":          (R, R, R, R, R, H),
    "api-platform-get-irq-optional": (OLD, OLD, H, H, H, H),
    "api-pm-runtime-resume-and-get": (R, R, H, H, H, H),
    "api-bio-max-vecs":              (OLD, OLD, OLD, H, H, H),
    "api-scsi-cmd-to-rq":            (OLD, OLD, H, H, H, H),   # 5.10.y: backported
    "api-scsi-done":                 (OLD, OLD, OLD, H, H, H),   # jammy carries scsi_done()
    "api-scsi-build-sense":          (OLD, OLD, OLD, H, H, H),
    "api-epoll-nval":                (OLD, OLD, H, H, H, H),   # 4.x uapi has no EPOLLNVAL at all
    "api-memdup-user-nul":           (R, H, H, H, H, H),
    "api-define-timer-two-args":     (R, H, H, H, H, H),
    "api-devm-clk-get-optional":     (R, R, H, H, H, H),
    "api-devm-pm-runtime-enable":    (R, R, H, H, H, H),   # 5.10.y: backported
    "api-read-poll-timeout":         (R, R, H, H, H, H),
    "api-static-assert":             (R, R, H, H, H, H),
    "api-str-has-prefix":            (R, R, H, H, H, H),
    "api-sched-set-fifo":            (R, R, H, H, H, H),
    "api-skb-queue-empty-lockless":  (OLD, H, H, H, H, H),   # Ubuntu 4.15 took it
    "api-of-get-phy-mode-ptr":       (R, R, H, H, H, H),
    "api-struct-group":              (R, R, H, H, H, H),   # 5.10.y / 5.15.y: backported
    "api-devm-mutex-init":           (R, R, R, H, H, H),   # 5.15.y / 6.1.y: backported
    "api-unsafe-memcpy":             (OLD, OLD, OLD, OLD, H, H),
    "api-kmalloc-size-roundup":      (R, R, R, H, H, H),   # jammy carries it
    "api-dma-map-sgtable":           (R, R, H, H, H, H),
    "api-get-user-pages-fast-foll-write": (OLD, OLD, H, H, H, H),
    "api-get-user-pages-fast-flags": (R, R, H, H, H, H),
    "api-of-get-mac-address-buf":    (R, R, R, H, H, H),
    "api-check-add-overflow":        (R, H, H, H, H, H),   # Ubuntu 4.15 carries overflow.h
    "api-check-mul-overflow":        (R, H, H, H, H, H),
    "api-strscpy-pad-two-arg":       (OLD, OLD, OLD, OLD, OLD, H),
    "api-strscpy-pad":               (H, H, H, H, H, H),   # Ubuntu 4.4 / 4.15 took it; 4.9 may lack it
    "api-platform-get-irq-byname-optional": (OLD, OLD, H, H, H, H),
}


@pytest.fixture(scope="module")
def targets():
    if not all((TREES / n).is_dir() for n in NAMES):
        pytest.skip("kbench trees missing")
    return [_Target(DirTree(str(TREES / n)), PortOptions(), Patch(subject="x"), None) for n in NAMES]


def _verdict(t: _Target, e) -> str:
    if t.has_new(e, "drivers/x/x.c"):
        return H
    return OLD if e.old and not any("{?}" in o for o in e.old) and t.old_evidence(e) is not None else R


@pytest.mark.parametrize("eid", sorted(EXPECTED))
def test_the_detection_matches_each_real_tree(targets, eid):
    e = {x.id: x for x in load_api()}[eid]
    got = tuple(_verdict(t, e) for t in targets)
    assert got == EXPECTED[eid], dict(zip(NAMES, got, strict=True))
