"""Callback return types (stage: adapt, kind ``callback-return``): a driver callback upstream
declares ``void`` written for a target whose ops struct still wants it to return ``int``.

Inputs: one patch's applied placements, the target tree, the kb API entries that carry a
``callback`` spec (kb/api/*.yaml: the ops struct, its member, the header that declares it, the
parameter type, the value the old form returns and the member that takes a void callback on
in-between trees, e.g. platform_driver.remove_new).
Outputs: the placements with rewritten ``target_new`` lines plus one ``model.Adaptation`` per
decision (evidence: the header line of the member and the target's own lines), and the uses
it could not decide, as (entry, placement index, row, reason) for the caller's ``api-missing``
findings.

What is rewritten, and only when the target's header shows the member returning the old type:
- a function the hunk adds as ``static void X(<param> *)`` that the patch or the target file
  assigns to the member (or to its void twin): the signature becomes ``static int``, bare
  ``return;`` becomes ``return <value>;`` and ``return <value>;`` ends the body; a forward
  declaration of X in the added lines follows;
- an added ``.<void twin> = X`` where the target's struct lacks the twin: ``.<member> = X``
  (X made to return int as above, or already int in the target);
- an added ``.<member> = X`` where X is a void function of the target and the struct has the
  twin: ``.<twin> = X``;
- bare ``return;`` added inside a function the target declares ``int`` and assigns to the
  member (the hunk edits the body of an existing callback).
Anything else about such a callback (its body not wholly in the added lines, X found nowhere
while named like the member) is handed back as undecided: the caller reports it.

Why regexes and not tree-sitter: the added lines of one hunk are rarely a complete translation
unit; the shapes matched here are kernel-style function headers and designated initialisers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from kb.api import ApiEntry

from .model import Adaptation, Placement, TargetTree

RE_BARE_RETURN = re.compile(r"^(\s*)return\s*;")


@dataclass(frozen=True, slots=True)
class Member:
    """What the target's header says about the callback member."""

    returns: str  # the member's return type in the target ("int", "void")
    evidence: str  # "path:line: text"
    twin: str  # evidence of the twin member taking upstream's form ("" when the struct lacks it)
    params: int = 1  # how many parameters the member takes in the target


def _struct_member(text: str, path: str, struct: str, member: str) -> tuple[str, str, int] | None:
    """(return type, "path:line: text", parameter count) of ``member`` in ``struct <struct>
    {...}`` of ``text``."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(rf"\s*struct\s+{struct}\s*\{{", ln)), None)
    if start is None:
        return None
    rx = re.compile(rf"^\s*(?:const\s+)?(\w+(?:\s*\*)?)\s*\(\s*\*\s*{member}\s*\)\s*\(")
    for n in range(start + 1, len(lines)):
        if re.match(r"\s*};", lines[n]):
            return None
        m = rx.match(lines[n])
        if m:
            params = lines[n][m.end():].split(")", 1)[0]
            return " ".join(m.group(1).split()), f"{path}:{n + 1}: {lines[n].strip()}", params.count(",") + 1
    return None


def target_member(tree: TargetTree, spec: dict) -> Member | None:
    for path in spec["header"]:
        text = tree.read(path)
        if not text:
            continue
        got = _struct_member(text, path, spec["struct"], spec["member"])
        if got:
            if spec.get("change") == "params":
                twin = _struct_member(text, path, spec["struct"], spec["twin"]) if spec.get("twin") else None
                return Member(got[0], got[1], twin[1] if twin and twin[2] == 1 else "", got[2])
            twin = _struct_member(text, path, spec["struct"], spec["void_member"]) if spec.get("void_member") else None
            return Member(got[0], got[1], twin[1] if twin and twin[0] == "void" else "", got[2])
    return None


def _def_rx(param: str, name: str = r"\w+", ret: str = r"void|int") -> re.Pattern[str]:
    ptype = r"\s+".join(re.escape(w) for w in param.split())
    return re.compile(rf"^(?P<head>(?:static\s+)?)(?P<ret>{ret})(?P<gap>\s+(?:__\w+\s+)*)(?P<name>{name})\s*\(\s*{ptype}\s*\*\s*\w*\s*\)"
                      r"\s*(?P<tail>;?)\s*$")


#: a pointer-or-NULL wrapper around an initialiser's function (``__exit_p(fn)``, ``pm_ptr(fn)``,
#: ``pm_sleep_ptr(fn)``): include/linux/init.h and pm.h define them as the function or NULL
RE_PTR_WRAPPER = r"[A-Za-z_]\w*(?:_p|_ptr|_PTR)"


def _init_rx(members: Sequence[str]) -> re.Pattern[str]:
    return re.compile(rf"^(?P<pre>\s*\.)(?P<member>{'|'.join(members)})(?P<mid>\s*=\s*)"
                      rf"(?:{RE_PTR_WRAPPER}\(\s*(?P<wname>\w+)\s*\)|(?P<name>\w+))\s*,?\s*$")


def _init_name(m: re.Match[str]) -> str:
    return m.group("name") or m.group("wname")


def _as_target_writes(p: Placement, line: str) -> str:
    """``line`` as the target's own line of the placed region writes it when the two differ in
    blanks only (the member alignment of ``.remove_new\t= f`` that upstream's ``.remove\t\t= f``
    replaced): the port then leaves that line as it is."""
    key = line.split()
    return next((t for t in p.target_old if t.split() == key), line)


def _where(tree: TargetTree) -> str:
    v = tree.kernel_version()
    return f"{v[0]}.{v[1]}" if v else "the target"


@dataclass
class _Edit:
    """The rows of one placement's target_new being rewritten (row -> new lines)."""

    rows: dict[int, list[str]]


def adapt_callbacks(entries: Sequence[ApiEntry], placements: list[Placement], tree: TargetTree,
                    added_rows, changed: set[int]) -> list[tuple[ApiEntry, int, int, str]]:
    """Rewrite void callbacks for a target whose member returns int (placements changed in
    place, their indexes added to ``changed``); return the undecided uses."""
    undecided: list[tuple[ApiEntry, int, int, str]] = []
    seen: set[tuple[str, str]] = set()
    for e in entries:
        spec = e.callback
        if not spec or (spec["struct"], spec["member"]) in seen:
            continue
        seen.add((spec["struct"], spec["member"]))
        group = [x for x in entries if x.callback and (x.callback["struct"], x.callback["member"])
                 == (spec["struct"], spec["member"])]
        one = _one_params if spec.get("change") == "params" else _one_callback
        undecided += one(group, spec, placements, tree, added_rows, changed)
    return undecided


def _one_callback(group: list[ApiEntry], spec: dict, placements: list[Placement], tree: TargetTree,
                  added_rows, changed: set[int]) -> list[tuple[ApiEntry, int, int, str]]:
    member, twin_name, value = spec["member"], spec.get("void_member", ""), spec["value"]
    # the entry of the void function and the one of the twin member's initialiser (may be one)
    void_entry = next((x for x in group if "static" in x.match), group[0])
    twin_entry = next((x for x in group if x is not void_entry), void_entry)
    defs, inits = _def_rx(spec["param"]), _init_rx([m for m in (member, twin_name) if m])
    # what the patch adds: void definitions and initialisers, per file
    added: dict[int, list[int]] = {i: added_rows(p) for i, p in enumerate(placements) if p.applied and p.path}
    uses = []
    for i, rows in added.items():
        p = placements[i]
        for j in rows:
            line = p.target_new[j]
            if defs.match(line) or inits.match(line) or RE_BARE_RETURN.match(line):
                uses.append((i, j))
    if not uses:
        return []
    tm = target_member(tree, spec)
    if tm is None or tm.returns == "void":
        return []  # the target's callback is void too (or no such struct: deps reports the names)
    old_ret = spec["returns"]
    if tm.returns != old_ret:
        return []
    where = _where(tree)
    out: list[tuple[ApiEntry, int, int, str]] = []
    edits: dict[int, dict[int, list[str]]] = {}
    notes: dict[int, list[Adaptation]] = {}

    def file_text(path: str) -> str:
        return tree.read(path) or ""

    def assigned(path: str, name: str) -> str:
        """How the patch (added lines of that file) or the target file assigns ``name``:
        the member name, or ""."""
        for i, rows in added.items():
            if placements[i].path != path:
                continue
            for j in rows:
                m = inits.match(placements[i].target_new[j])
                if m and _init_name(m) == name:
                    return m.group("member")
        for ln in file_text(path).splitlines():
            m = inits.match(ln)
            if m and _init_name(m) == name:
                return m.group("member")
        return ""

    def target_def(path: str, name: str) -> tuple[str, str] | None:
        rx = _def_rx(spec["param"], re.escape(name))
        for n, ln in enumerate(file_text(path).splitlines(), 1):
            m = rx.match(ln)
            if m and not m.group("tail"):
                return m.group("ret"), f"{path}:{n}: {ln.strip()}"
        return None

    def note(i: int, j: int, entry: ApiEntry, summary: str, up: list[str], port: list[str], ev: Sequence[str]) -> None:
        p = placements[i]
        notes.setdefault(i, []).append(Adaptation(
            kind="api", summary=summary, upstream=tuple("+" + x for x in up), port=tuple("+" + x for x in port),
            evidence=tuple(ev), path=p.path or "", line=p.start + j, ref=p.hunk.ref,
            references=entry.references, rule=entry.id))

    converted: set[tuple[str, str]] = set()
    # 1. added void definitions assigned to the member (or its twin) become int
    for i, j in uses:
        p = placements[i]
        m = defs.match(p.target_new[j])
        if not m or m.group("ret") != "void" or m.group("tail"):
            continue
        name, path = m.group("name"), p.path or ""
        how = assigned(path, name)
        if not how:
            if member in name or (twin_name and twin_name in name):
                out.append((void_entry, i, j, f"{name}() is not assigned to {spec['struct']}.{member} in the patch "
                            f"or the target file: which callback it is cannot be told"))
            continue
        if how == twin_name and tm.twin:
            continue  # assigned to the void twin the target has (.remove_new): void is right there
        body = _body(p.target_new, j, set(added[i]))
        if body is None:
            out.append((void_entry, i, j, f"the body of {name}() is not wholly added by the hunk"))
            continue
        rows = edits.setdefault(i, {})
        rows[j] = [_retype(p.target_new[j], old_ret)]
        for r in range(j + 1, body):
            rm = RE_BARE_RETURN.match(p.target_new[r])
            if rm:
                rows[r] = [RE_BARE_RETURN.sub(rf"\1return {value};", p.target_new[r], count=1)]
        last = max((r for r in range(j + 1, body) if p.target_new[r].strip()), default=j)
        closing = [p.target_new[body]]
        if not re.match(rf"\s*return\s+{re.escape(value)}\s*;", rows.get(last, [p.target_new[last]])[0]):
            closing = ([] if p.target_new[last].strip() in ("{", "") else [""]) + [f"\treturn {value};", p.target_new[body]]
        rows[body] = closing
        converted.add((path, name))
        up = list(p.target_new[j:body + 1])
        port = [x for r in range(j, body + 1) for x in rows.get(r, [p.target_new[r]])]
        note(i, j, void_entry, f"make {name}() return {old_ret}: {where}'s {spec['struct']}.{member} returns {old_ret}",
             up, port, (tm.evidence,))
    # 2. forward declarations of converted functions, and initialisers
    for i, j in uses:
        p = placements[i]
        line, path = p.target_new[j], p.path or ""
        m = defs.match(line)
        if m and m.group("tail") and (path, m.group("name")) in converted:
            edits.setdefault(i, {})[j] = [_retype(line, old_ret)]
            note(i, j, void_entry, f"declare {m.group('name')}() returning {old_ret}", [line], [_retype(line, old_ret)],
                 (tm.evidence,))
            continue
        m = inits.match(line)
        if not m:
            continue
        name, used = _init_name(m), m.group("member")
        if (path, name) in converted:
            ret = old_ret
        else:
            found = target_def(path, name)
            ret = found[0] if found else ""
        want = member if ret == old_ret else twin_name if (ret == "void" and tm.twin) else ""
        if not ret:
            if used == twin_name:
                out.append((twin_entry, i, j, f"{name}() is defined neither in the patch nor in {path}: "
                            f"whether it may become .{member} cannot be told"))
            continue
        if not want:
            out.append((twin_entry, i, j, f"{name}() returns void in the target and {where}'s {spec['struct']} "
                        f"has no void .{twin_name or member}"))
            continue
        if want != used:
            new = _as_target_writes(p, line[:m.start("member")] + want + line[m.end("member"):])
            edits.setdefault(i, {})[j] = [new]
            why = (f"{where}'s {spec['struct']} has no .{used}" if used == twin_name and not tm.twin
                   else f"{where}'s {spec['struct']}.{member} returns {old_ret}")
            note(i, j, twin_entry, f"assign {name}() to .{want}: {why}", [line], [new],
                 (tm.evidence, *((tm.twin,) if want == twin_name else ())))
    # 3. bare returns added to the body of a callback the target declares int
    for i, j in uses:
        p = placements[i]
        if not RE_BARE_RETURN.match(p.target_new[j]) or j in edits.get(i, {}):
            continue
        enclosing = _enclosing(file_text(p.path or "").splitlines()[:max(p.start - 1, 0)], p.target_new[:j], p.start)
        if enclosing is None:
            continue
        name, sig, at = enclosing
        fm = _def_rx(spec["param"], re.escape(name), old_ret).match(sig)
        if not fm or (p.path or "", name) in converted or assigned(p.path or "", name) != member:
            continue
        new = RE_BARE_RETURN.sub(rf"\1return {value};", p.target_new[j], count=1)
        edits.setdefault(i, {})[j] = [new]
        note(i, j, void_entry, f"return {value} from {name}(): {where}'s {name}() returns {old_ret}",
             [p.target_new[j]], [new], (f"{p.path}:{at}: {sig.strip()}", tm.evidence))
    for i, rows in edits.items():
        p = placements[i]
        new_lines = [x for r, ln in enumerate(p.target_new) for x in rows.get(r, [ln])]
        placements[i] = replace(p, target_new=tuple(new_lines), adaptations=(*p.adaptations, *notes.get(i, ())))
        changed.add(i)
    return out


def _one_params(group: list[ApiEntry], spec: dict, placements: list[Placement], tree: TargetTree,
                added_rows, changed: set[int]) -> list[tuple[ApiEntry, int, int, str]]:
    """A one-parameter callback (upstream's member form) on a target whose member takes more:
    an added ``.member = X`` of such an X becomes ``.twin = X`` when the struct has the
    one-parameter twin (i2c_driver.probe_new); otherwise each such use is undecided."""
    e, member, twin = group[0], spec["member"], spec.get("twin", "")
    defs = _def_rx(spec["param"], ret=re.escape(spec["returns"]))
    inits = _init_rx([member])
    added = {i: added_rows(p) for i, p in enumerate(placements) if p.applied and p.path}
    one_arg: dict[str, set[str]] = {}  # path -> names of one-parameter definitions (patch or target)
    for i, rows in added.items():
        p = placements[i]
        one_arg.setdefault(p.path or "", set()).update(
            m.group("name") for j in rows if (m := defs.match(p.target_new[j])) and not m.group("tail"))
    sites = [(i, j, m) for i, rows in added.items() for j in rows if (m := inits.match(placements[i].target_new[j]))]
    defined = [(i, j, m) for i, rows in added.items() for j in rows
               if (m := defs.match(placements[i].target_new[j])) and not m.group("tail")]
    if not sites and not defined:
        return []
    tm = target_member(tree, spec)
    if tm is None or tm.params == 1:
        return []
    for path in {placements[i].path or "" for i, _, _ in sites}:
        one_arg.setdefault(path, set()).update(
            m.group("name") for ln in (tree.read(path) or "").splitlines() if (m := defs.match(ln)))
    out: list[tuple[ApiEntry, int, int, str]] = []
    where = _where(tree)
    renamed: set[tuple[str, str]] = set()
    for i, j, m in sites:
        p = placements[i]
        name = _init_name(m)
        if name not in one_arg.get(p.path or "", set()):
            continue  # a callback with the target's own parameters
        if not tm.twin:
            out.append((e, i, j, f"{where}'s {spec['struct']}.{member} takes {tm.params} parameters and there is no "
                        f"one-parameter .{twin or member}: give {name}() the missing parameters by hand"))
            continue
        line = p.target_new[j]
        new = line[:m.start("member")] + twin + line[m.end("member"):]
        rows = list(p.target_new)
        rows[j] = new
        placements[i] = p = replace(p, target_new=tuple(rows), adaptations=(*p.adaptations, Adaptation(
            kind="api", summary=f"assign {name}() to .{twin}: {where}'s {spec['struct']}.{member} takes "
            f"{tm.params} parameters", upstream=("+" + line,), port=("+" + new,), evidence=(tm.evidence, tm.twin),
            path=p.path or "", line=p.start + j, ref=p.hunk.ref, references=e.references, rule=e.id)))
        changed.add(i)
        renamed.add((p.path or "", name))
    for i, j, m in defined:
        p = placements[i]
        name = m.group("name")
        if (p.path or "", name) in renamed or (twin and re.search(
                rf"^\s*\.{twin}\s*=\s*{re.escape(name)}", tree.read(p.path or "") or "", re.M)):
            continue
        if any(_init_name(mm) == name for _, _, mm in sites) and not tm.twin:
            continue  # reported at its initialiser
        if member in name:
            out.append((e, i, j, f"{name}() takes one parameter but {where}'s {spec['struct']}.{member} takes "
                        f"{tm.params}; it is not assigned to .{twin or member} in the patch or the target file"))
    return out


def _retype(line: str, ret: str) -> str:
    return re.sub(r"\bvoid(\s+)", lambda m: ret + m.group(1), line, count=1)


def _body(lines: Sequence[str], sig: int, added: set[int]) -> int | None:
    """The row of the closing brace of the function whose header is row ``sig``, when every row
    from the header to it is added; None otherwise."""
    if sig + 1 >= len(lines) or lines[sig + 1].strip() != "{":
        return None
    for r in range(sig + 1, len(lines)):
        if r not in added:
            return None
        if lines[r].rstrip() == "}":
            return r
        if r > sig + 1 and lines[r][:1] not in ("", "\t", " ", "#") and not re.match(r"\w+:", lines[r]):
            return None  # something at column 0 before the closing brace: not kernel-style
    return None


def _enclosing(before: Sequence[str], in_hunk: Sequence[str], start: int) -> tuple[str, str, int] | None:
    """(name, header line, 1-based target line) of the function the row after ``in_hunk`` sits
    in, scanning the target's lines above the placement and the hunk's own rows above it."""
    lines = [*before, *in_hunk]
    for n in range(len(lines) - 1, -1, -1):
        ln = lines[n]
        if ln.rstrip() == "}":
            return None
        m = re.match(r"^(?:static\s+)?(?:inline\s+)?\w+\s+\**(\w+)\s*\(", ln)
        if m and not ln.rstrip().endswith(";"):
            return m.group(1), ln, n + 1 if n < len(before) else start + n - len(before)
    return None
