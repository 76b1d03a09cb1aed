"""hunks.initializer: designated-initializer entries added next to neighbours the target lacks."""

from __future__ import annotations

from test_hunks_support import apply, spec

from hunks.cascade import locate
from hunks.initializer import find_initializer_entry

OPS = ["static int foo_probe(struct device *dev)", "{", "\treturn 0;", "}", "",
       "static const struct foo_ops foo_ops = {", "\t.probe = foo_probe,", "\t.remove = foo_remove,",
       "\t.get_clock = foo_get_clock_old,", "};", "", "static int foo_init(void)", "{", "\treturn 0;", "}"]

# upstream's table has entries the target never got (.set_mall, and .get_clock spelled otherwise)
AT_END = spec("""@@ -40,6 +40,7 @@ static const struct foo_ops foo_ops = {
 \t.remove = foo_remove,
 \t.get_clock = foo_get_clock_common,
 \t.set_mall = foo_set_mall,
+\t.set_power_dep = foo_set_power_dep,
 };
\x20
 static int foo_init(void)
""")

AFTER = spec("""@@ -40,6 +40,7 @@ static const struct foo_ops foo_ops = {
 \t.probe = foo_probe,
 \t.remove = foo_remove,
+\t.shutdown = foo_shutdown,
 \t.set_mall = foo_set_mall,
 \t.get_clock = foo_get_clock_common,
 };
""")


def test_an_entry_goes_before_the_closing_line_when_that_is_its_nearest_neighbour_the_target_has():
    m = find_initializer_entry(tuple(OPS), AT_END)
    assert m is not None and m.anchored and m.confidence >= 0.8 and m.start == 9
    assert apply(OPS, m)[6:11] == ["\t.probe = foo_probe,", "\t.remove = foo_remove,", "\t.get_clock = foo_get_clock_old,",
                                   "\t.set_power_dep = foo_set_power_dep,", "};"]
    assert any("does not order" in e for e in m.evidence)


def test_an_entry_goes_after_the_nearest_entry_above_that_the_target_has():
    m = locate(OPS, AFTER, known=lambda name: True)
    assert m is not None and m.confidence >= 0.8 and not m.ambiguous
    assert apply(OPS, m)[7:9] == ["\t.remove = foo_remove,", "\t.shutdown = foo_shutdown,"]


def test_indexed_entries_over_several_lines_are_entries_too():
    table = ["static const struct policy policies[] = {", "\t[TAG_A] = {", "\t\t.min_len = sizeof(struct a) },", "};"]
    hunk = spec("""@@ -10,6 +10,8 @@ static const struct policy policies[] = {
 \t\t.min_len = sizeof(struct p2p_info) },
 \t[TAG_P2P] = {
 \t\t.min_len = sizeof(struct p2p_event) },
+\t[TAG_CSA] = {
+\t\t.min_len = sizeof(struct csa_event) },
 };
""")
    m = find_initializer_entry(tuple(table), hunk)
    assert m is not None and apply(table, m) == table[:3] + ["\t[TAG_CSA] = {", "\t\t.min_len = sizeof(struct csa_event) },",
                                                             "};"]


def test_order_that_means_something_or_an_entry_already_there_is_left_alone():
    ids = ["static const struct pci_device_id ids[] = {", "\t{ PCI_DEVICE(0x8086, 0x1234) },", "\t{ }", "};"]
    listed = spec("""@@ -10,4 +10,5 @@ static const struct pci_device_id ids[] = {
 \t{ PCI_DEVICE(0x8086, 0x1000) },
+\t{ PCI_DEVICE(0x8086, 0x1001) },
 \t{ }
 };
""")
    assert find_initializer_entry(tuple(ids), listed) is None  # no designators: a list in order
    twice = OPS[:8] + ["\t.set_power_dep = foo_set_power_dep_old,"] + OPS[8:]
    assert find_initializer_entry(tuple(twice), AT_END) is None  # the member is initialised already
    nested = ["static const struct foo_ops foo_ops = {", "\t.sub = {", "\t\t.remove = foo_remove,", "\t},", "};"]
    inner = spec("""@@ -10,3 +10,4 @@ static const struct foo_ops foo_ops = {
 \t.remove = foo_remove,
+\t.shutdown = foo_shutdown,
 \t.set_mall = foo_set_mall,
""")
    assert find_initializer_entry(tuple(nested), inner) is None  # that neighbour is not at its top level
