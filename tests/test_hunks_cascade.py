"""The cheap methods of the placement cascade: exact, offset, whitespace, fuzz, already-applied."""

from __future__ import annotations

import pytest
from test_hunks_support import apply, c_file, spec

from hunks.cascade import locate

BASE = c_file()
# fn_1's body starts at index 16 ("\td->field_1_0 ..."), the hunk's first line
HUNK = spec("""@@ -17,6 +17,7 @@ static int fn_1(struct dev_1 *d)
 \td->field_1_0 = compute_0(d, 10);
 \td->field_1_1 = compute_1(d, 11);
 \td->field_1_2 = compute_2(d, 12);
+\td->new = 1;
 \td->field_1_3 = compute_3(d, 13);
 \td->field_1_4 = compute_4(d, 14);
 \td->field_1_5 = compute_5(d, 15);
""")
EXPECTED = BASE[:19] + ["\td->new = 1;"] + BASE[19:]


def test_exact_at_stated_line_is_certain():
    m = locate(BASE, HUNK, hint=16)
    assert m is not None and m.method == "exact" and m.confidence == 1.0
    assert apply(BASE, m) == EXPECTED


@pytest.mark.parametrize("shift,low,high", [(3, 0.97, 0.99), (40, 0.96, 0.98), (900, 0.95, 0.97)])
def test_offset_confidence_falls_with_distance(shift, low, high):
    target = BASE[:5] + [f"/* pad {i} */" for i in range(shift)] + BASE[5:]
    m = locate(target, HUNK, hint=16)
    assert m is not None and m.method == "offset" and not m.ambiguous
    assert low <= m.confidence <= high
    assert apply(target, m) == EXPECTED[:5] + [f"/* pad {i} */" for i in range(shift)] + EXPECTED[5:]
