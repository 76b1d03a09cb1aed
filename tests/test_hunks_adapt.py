"""hunks.adapt: token-level adaptation on miniature line lists (no tree, no git)."""

from __future__ import annotations

from hunks.adapt import adapt, learn_line, learning_pairs
from hunks.types import HunkSpec


def spec(*rows: str) -> HunkSpec:
    return HunkSpec(tuple(r[0] for r in rows), tuple(r[1:] for r in rows))


def test_rename_learned_from_context_is_carried_into_added_lines():
    s = spec(" \tstruct foo *f = timer_container_of(f, t, timer);", "+\tstruct foo *g = timer_container_of(g, t, timer);",
             " \tkick(f);")
    tgt = ["void cb(struct timer_list *t)", "{", "\tstruct foo *f = from_timer(f, t, timer);", "\tkick(f);", "}"]
    a = adapt(s, tgt, [2, 3])
    assert a.ok
    assert a.lines[1] == "\tstruct foo *g = from_timer(g, t, timer);"
    assert a.lines[0] == tgt[2]  # the kept line as the target has it
    (sub, hs), = a.carried
    assert (sub.kind, sub.line, hs) == ("rename", 2, (1,))
    assert sub.summary() == "use from_timer(), the target has no timer_container_of()"


def test_argument_added_by_the_target():
    s = spec(" \tc1 = class_create(\"one\");", "+\tc2 = class_create(\"two\");")
    tgt = ["\tc1 = class_create(THIS_MODULE, \"one\");"]
    a = adapt(s, tgt, [0])
    assert a.ok and a.lines[1] == "\tc2 = class_create(THIS_MODULE, \"two\");"
    assert a.carried[0][0].kind == "argument"


def test_argument_dropped_by_the_target():
    s = spec(" \tc1 = class_create(THIS_MODULE, \"one\");", "+\tc2 = class_create(THIS_MODULE, \"two\");")
    a = adapt(s, ["\tc1 = class_create(\"one\");"], [0])
    assert a.ok and a.lines[1] == "\tc2 = class_create(\"two\");"


def test_call_that_does_not_fit_the_argument_change_is_uncarried():
    s = spec(" \tc1 = class_create(\"one\");", "+\tops.create = class_create;")
    a = adapt(s, ["\tc1 = class_create(THIS_MODULE, \"one\");"], [0])
    assert not a.ok and "class_create()" in a.uncarried[0]


def test_removed_line_without_read_once_is_deleted_as_the_target_has_it():
    s = spec("-\tint m = new & ~READ_ONCE(inode->i_mask);", "+\tint m = new & ~READ_ONCE(inode->i_mask) & x;")
    tgt = ["\tint m = new & ~inode->i_mask;"]
    a = adapt(s, tgt, [0])
    assert a.ok
    assert a.lines == ("\tint m = new & ~inode->i_mask;", "\tint m = new & ~inode->i_mask & x;")
    assert a.removed[0].line == 0
    assert a.carried[0][0].kind == "wrapper"
    assert "without READ_ONCE()" in a.carried[0][0].summary()


def test_removed_line_not_in_the_target_is_never_deleted():
    s = spec(" \ta();", "-\tb();", "+\tc();")
    a = adapt(s, ["\ta();", "\tz = q(1, 2, 3);"], [0, None])
    assert not a.ok and "nothing to delete" in a.uncarried[0]


def test_removed_line_that_differs_beyond_tokens_is_uncarried():
    s = spec("-\tret = foo(dev, 1);")
    a = adapt(s, ["\tif (bar(x) < 0) goto out;"], [0])
    assert not a.ok and not a.changed


def test_same_token_learned_two_ways_is_a_conflict_not_a_guess():
    s = spec(" \ta = kmalloc(n, KSMBD_GFP);", " \tb = kmalloc(n, KSMBD_GFP);", "+\tc = kmalloc(n, KSMBD_GFP);")
    a = adapt(s, ["\ta = kmalloc(n, GFP_KERNEL);", "\tb = kmalloc(n, GFP_ATOMIC);"], [0, 1])
    assert not a.ok and "two ways" in a.uncarried[0]
    assert a.lines[2] == "\tc = kmalloc(n, KSMBD_GFP);"  # nothing carried


def test_spelling_the_target_also_uses_elsewhere_is_not_carried():
    s = spec(" \tx = alloc(n, GFP_KERNEL);", "+\ty = alloc(n, GFP_KERNEL);")
    tgt = ["\tx = alloc(n, GFP_ATOMIC);", "\tz = alloc(n, GFP_KERNEL);"]
    a = adapt(s, tgt, [0])
    assert a.ok and not a.carried and a.lines[1] == "\ty = alloc(n, GFP_KERNEL);"


def test_strings_and_comments_are_not_rewritten():
    subs, _ = learn_line("\tpr_info(\"old_name\"); /* old_name */ old_name(x);", "\tpr_info(\"old_name\"); new_name(x);", 0)
    assert [(s.up_text, s.tg_text) for s in subs] == [("old_name", "new_name")]
    s = spec(" \told_name(x);", "+\tpr_info(\"old_name\"); old_name(y); // old_name")
    a = adapt(s, ["\tnew_name(x);"], [0])
    assert a.lines[1] == "\tpr_info(\"old_name\"); new_name(y); // old_name"


def test_member_access_spelled_otherwise():
    s = spec(" \tp->stats.rx++;", "+\tp->stats.tx++;")
    a = adapt(s, ["\tp->stats->rx++;"], [0])
    assert a.ok and a.lines[1] == "\tp->stats->tx++;"


def test_with_base_learns_from_lines_around_the_hunk():
    base = ["int f(struct timer_list *t)", "{", "\tstruct foo *f = timer_container_of(f, t, timer);", "",
            "\tif (!f)", "\t\treturn 0;", "\tkick(f);", "\treturn 1;", "}"]
    tgt = ["int f(struct timer_list *t)", "{", "\tstruct foo *f = from_timer(f, t, timer);", "",
           "\tif (!f)", "\t\treturn 0;", "\tkick(f);", "\treturn 1;", "}"]
    s = HunkSpec((" ", " ", "+", " ", " "), ("\t\treturn 0;", "\tkick(f);",
                                             "\tkick(timer_container_of(f, t, timer));", "\treturn 1;", "}"), 6)
    # without the base the hunk's own lines say nothing about the rename: nothing is learned
    # (the placement's drift check still sees the name the target lacks)
    pairs, more, by_base = learning_pairs(s, tgt, 5, 9)
    assert not by_base
    assert more == [] and pairs == [5, 6, 7, 8]
    plain = adapt(s, tgt, pairs, more)
    assert not plain.changed and not plain.learned
    pairs, more, by_base = learning_pairs(s, tgt, 5, 9, base)
    assert by_base
    a = adapt(s, tgt, pairs, more)
    assert a.ok and a.lines[2] == "\tkick(from_timer(f, t, timer));"
    assert a.carried[0][0].line == 2


def test_tokens_added_outside_a_call_are_logic_not_spelling():
    s = spec("-\tif (a && b)", "+\tif (a && b && c)")
    a = adapt(s, ["\tif (a)"], [0], by_base=True)
    assert not a.ok and "keeps upstream's 'a && b'" in a.uncarried[0]
    # nor is a statement the target splits over two lines one of its halves
    s = spec("-\tp->data = init(net, sizeof(u32));", "+\tp->data = init(net, sizeof(u64));")
    a = adapt(s, ["\tp->data =", "\t\tinit(net, sizeof(u32));"], [1])
    assert not a.ok and not a.changed


def test_a_replaced_lines_spelling_the_target_file_also_has_the_other_way_is_not_guessed():
    # the removed line reads "page" in the target; the file has "folio" elsewhere, so carrying
    # "folio" -> "page" into the new line is not sure, and keeping "folio" would not build
    s = spec("-\tif (!test_dirty(folio))", "+\tif (!test_dirty(folio) || busy(folio))")
    tgt = ["\tstruct folio *folio = f;", "\tif (!test_dirty(page))"]
    a = adapt(s, tgt, [1])
    assert not a.ok and "both ways" in a.uncarried[0]


def test_a_removed_comment_is_deleted_only_when_it_is_the_same_comment():
    s = spec(" \tfoo();", "-\t/* wait for the hardware to settle */", " \tbar();")
    a = adapt(s, ["\tfoo();", "\t/* wait for the hw to settle */", "\tbar();"], [0, 1, 2])
    assert a.ok and a.removed and a.removed[0].target == "\t/* wait for the hw to settle */"
    a = adapt(s, ["\tfoo();", "\t/* FIXME: locking */", "\tbar();"], [0, 1, 2])
    assert not a.ok and not a.changed


LOCALS = ["static int other(void)", "{", "\tint err = probe();", "", "\treturn err;", "}", "",
          "static int foo(struct device *dev)", "{", "\tint ret;", "", "\tret = bar(dev);", "\tif (ret)",
          "\t\tgoto out;", "\tbaz(dev);", "out:", "\treturn ret;", "}"]
LOCAL_HUNK = spec(" \terr = bar(dev);", " \tif (err)", " \t\tgoto out;", "+\terr = qux(dev);", "+\tif (err)",
                  "+\t\tgoto out;", " \tbaz(dev);")


def test_a_locals_rename_is_judged_within_its_function_and_carried():
    # other() has its own "err": file-wide the target spells it both ways, foo() only as "ret"
    a = adapt(LOCAL_HUNK, LOCALS, [11, 12, 13, 14], language="c")
    assert a.ok
    assert a.lines[3:6] == ("\tret = qux(dev);", "\tif (ret)", "\t\tgoto out;")
    (sub, hs), = a.carried
    assert (sub.local, hs, sub.line) == ("foo", (3, 4), 11)
    assert sub.summary() == "use the target's local 'ret' for upstream's 'err' in foo()"
    # the tree defining some global "err" does not make upstream's spelling right in foo()
    assert adapt(LOCAL_HUNK, LOCALS, [11, 12, 13, 14], known=lambda n: True, language="c").carried
    # without the language (not C) the whole-file rule stands: nothing carried
    assert not adapt(LOCAL_HUNK, LOCALS, [11, 12, 13, 14]).carried


def test_a_function_using_both_spellings_of_a_local_is_reported_not_guessed():
    tgt = LOCALS[:9] + ["\tint ret, err;", "", "\tret = bar(dev);", "\tif (ret)", "\t\tgoto out;", "\tbaz(dev);",
                        "out:", "\treturn ret ?: err;", "}"]
    a = adapt(LOCAL_HUNK, tgt, [11, 12, 13, 14], language="c")
    assert not a.ok and not a.carried
    assert "the target function uses both" in a.uncarried[0] and "'err'" in a.uncarried[0]


def test_a_name_the_function_does_not_declare_keeps_the_whole_file_rule():
    # "ret" is a file-scope variable here, not foo()'s local: as before, not carried, not reported
    tgt = ["static int ret;"] + [ln for ln in LOCALS if ln != "\tint ret;"]
    a = adapt(LOCAL_HUNK, tgt, [11, 12, 13, 14], language="c")
    assert a.ok and not a.carried and a.lines[3] == "\terr = qux(dev);"


def test_declarations_of_a_name():
    from hunks.adapt import declares
    yes = ["\tint ret;", "\tint a, ret;", "\tint ret = 0;", "static int f(struct device *dev, int ret)",
           "\tstruct foo *ret = g;", "\t\t     unsigned long ret)"]
    no = ["\treturn ret;", "\tgoto ret;", "\tx = y * ret;", "\tret = f(a, ret);", "\tif (ret)", "\tfoo(a, ret);",
          "int a = f(x, ret);"]
    assert [declares(x, "ret") for x in yes] == [True] * len(yes)
    assert [declares(x, "ret") for x in no] == [False] * len(no)


def test_address_dropped_by_the_target_is_carried_into_added_lines():
    # the target's raw_class is a pointer: a removed line shows "&raw_class" written "raw_class"
    s = spec("-\tdev = device_create(&raw_class, parent, devt);", "+\traw->dev.class = &raw_class;",
             "+\tcls_put(&raw_class);")
    a = adapt(s, ["\tdev = device_create(raw_class, parent, devt);"], [0])
    assert a.ok, a.uncarried
    assert a.lines == ("\tdev = device_create(raw_class, parent, devt);", "\traw->dev.class = raw_class;",
                       "\tcls_put(raw_class);")
    (sub, hs), = a.carried
    assert (sub.kind, hs, sub.removed) == ("pointer", (1, 2), True)
    assert "raw_class is a pointer there" in sub.summary()


def test_address_of_a_member_is_no_pointer_change():
    # "&sbi->shrinker" against "sbi->shrinker": the member's address, not a respelling of "sbi"
    subs, _ = learn_line("\tfree(sbi->shrinker);", "\tunregister(&sbi->shrinker);", 0)
    assert all(x.kind != "pointer" for x in subs)


def test_pointer_change_that_does_not_fit_a_member_access_is_uncarried():
    s = spec("-\tput(&raw_class);", "+\tname = &raw_class.name;")
    a = adapt(s, ["\tput(raw_class);"], [0])
    assert not a.ok and "pointer change" in a.uncarried[0]


def test_annotation_the_target_lacks_is_dropped_from_added_lines():
    s = spec("-__bpf_kfunc void foo_updated(struct foo *f, int cpu)", "+void __foo_updated(struct foo *f, int cpu)",
             "+__bpf_kfunc void foo_updated(struct foo *f, int cpu, int n)")
    a = adapt(s, ["void foo_updated(struct foo *f, int cpu)"], [0], known=lambda name: name != "__bpf_kfunc")
    assert a.ok, a.uncarried
    assert a.lines[0] == "void foo_updated(struct foo *f, int cpu)"
    assert a.lines[2] == "void foo_updated(struct foo *f, int cpu, int n)"
    (sub, hs), = a.carried
    assert sub.kind == "attribute" and hs == (2,)
    assert sub.summary() == "drop __bpf_kfunc, the target has no __bpf_kfunc"


def test_annotation_the_target_defines_is_not_dropped():
    # the target knows __maybe_unused: its absence on this line is no reason to drop it elsewhere
    s = spec("-static int __maybe_unused x;", "+static int __maybe_unused y;")
    a = adapt(s, ["static int x;"], [0], known=lambda name: True)
    assert a.lines[1] == "static int __maybe_unused y;"


def test_keyword_or_plain_name_dropped_by_the_target_is_no_annotation():
    subs, why = learn_line("\treturn ops->brk(tty, state);", "\tops->brk(tty, state);", 0)
    assert not subs and "outside a call" in why
    subs, why = learn_line("\treturn err;", "\treturn;", 0)
    assert not subs and "outside a call" in why


def test_removed_line_a_few_tokens_apart_is_deleted_as_the_target_spells_it():
    # upstream returned what the callback gave and -ENOTTY; the target ignores it and returns 0
    s = spec(" \tif (ops->brk)", "-\t\treturn ops->brk(tty, state);", "-\treturn -ENOTTY;", "+\t\tret = ops->brk(tty, state);",
             "+\treturn -ENOTTY;")
    tgt = ["\tif (ops->brk)", "\t\tops->brk(tty, state);", "\treturn 0;"]
    assert not adapt(s, tgt, [0, 1, 2]).ok  # aligned alone: not proof enough
    a = adapt(s, tgt, [0, 1, 2], by_base=True)
    assert a.ok, a.uncarried
    assert a.lines[1:3] == ("\t\tops->brk(tty, state);", "\treturn 0;")
    # upstream's new code as is, the return it re-adds too (a return's value is new control flow)
    assert a.lines[3:] == ("\t\tret = ops->brk(tty, state);", "\treturn -ENOTTY;")
    assert [r.line for r in a.removed] == [1, 2] and not a.carried


def test_removed_declaration_with_another_type_is_deleted_as_the_target_spells_it():
    s = spec("-\t\t\t\t u32 fd_flags,", "-\t\t\t\t u64 heap_flags)", "+\t\t\t\t u32 flags)")
    a = adapt(s, ["\t\t\t\t unsigned int fd_flags,", "\t\t\t\t unsigned int heap_flags)"], [0, 1], by_base=True)
    assert a.ok and a.lines[:2] == ("\t\t\t\t unsigned int fd_flags,", "\t\t\t\t unsigned int heap_flags)")


def test_argument_change_of_a_call_the_target_also_has_is_not_required():
    # ida_alloc() exists in the target: the removed line's older spelling need not reach added lines
    s = spec("-\tminor = ida_alloc(&minors, GFP_KERNEL);", "+\tminor = ida_alloc(&minors, GFP_KERNEL);",
             "+\tida_free(&minors, minor);")
    a = adapt(s, ["\tminor = ida_simple_get(&minors, 0, 0, GFP_KERNEL);"], [0], known=lambda name: True)
    assert a.ok, a.uncarried
    assert a.lines == ("\tminor = ida_simple_get(&minors, 0, 0, GFP_KERNEL);",) * 2 + s.lines[2:]
    assert [c[0].kind for c in a.carried] == ["moved"] and a.removed  # the re-added line, as removed


def test_argument_wrapped_by_the_target_is_carried_into_calls_of_the_same_function():
    # the target's btrfs_foo() takes a btrfs_inode: the context shows its argument wrapped
    s = spec(" \tret = btrfs_foo(inode, 0);", "+\tret = btrfs_foo(dir, 1) ?: btrfs_foo(other, 2);",
             "+\tbar(inode);")
    tgt = ["\tret = btrfs_foo(BTRFS_I(inode), 0);", "\tbar(inode);"]
    a = adapt(s, tgt, [0])
    assert a.ok, a.uncarried
    assert a.lines[1] == "\tret = btrfs_foo(BTRFS_I(dir), 1) ?: btrfs_foo(BTRFS_I(other), 2);"
    assert a.lines[2] == "\tbar(inode);"  # another function: untouched
    (sub, hs), = a.carried
    assert (sub.kind, sub.anchor, sub.arg, hs) == ("argwrap", "btrfs_foo", 0, (1,))
    assert sub.summary() == "pass btrfs_foo() BTRFS_I() of its argument as the target does (BTRFS_I(inode))"


def test_argument_unwrapped_by_the_target_and_a_call_that_does_not_fit():
    s = spec(" \tbtrfs_foo(BTRFS_I(inode), 0);", "+\tbtrfs_foo(BTRFS_I(dir), 1);", "+\tbtrfs_foo(bi, 2);")
    a = adapt(s, ["\tbtrfs_foo(inode, 0);"], [0])
    assert a.lines[1] == "\tbtrfs_foo(dir, 1);"
    assert not a.ok and "calls btrfs_foo() in a form" in a.uncarried[0]  # "bi" has nothing to unwrap


def test_a_target_calling_both_ways_carries_no_argument_wrapper():
    s = spec(" \tbtrfs_foo(inode, 0);", "+\tbtrfs_foo(dir, 1);")
    a = adapt(s, ["\tbtrfs_foo(BTRFS_I(inode), 0);", "\tbtrfs_foo(other, 3);"], [0])
    assert a.lines[1] == "\tbtrfs_foo(dir, 1);" and not a.carried


def test_an_argument_the_target_appends_is_appended_to_every_call_with_upstreams_count():
    s = spec(" \tid = ida_get(&minors, GFP_KERNEL);", "+\tother = ida_get(&majors, GFP_KERNEL);",
             "+\tida_get(&x);")
    a = adapt(s, ["\tid = ida_get(&minors, GFP_KERNEL, &dev->lock);"], [0])
    assert a.lines[1] == "\tother = ida_get(&majors, GFP_KERNEL, &dev->lock);"
    (sub, hs), = a.carried
    assert (sub.kind, sub.arg, sub.nargs, hs) == ("argpos", 2, 2, (1,))
    assert sub.summary() == "call ida_get() with the target's argument 3 (&dev->lock)"
    assert not a.ok and "calls ida_get() in a form" in a.uncarried[0]  # one argument: neither form


def test_an_argument_the_target_computes_from_the_calls_own_arguments_fits_only_that_call():
    # __assign_str(drv, foo->drv->name) against upstream's __assign_str(drv): the source names the
    # field; carried to __assign_str(label) it would copy the wrong string (v6.10, 2c92ca849fcc)
    s = spec(" \t\t__assign_str(drv);", "+\t\t__assign_str(label);", "+\t\t__assign_str(drv);")
    a = adapt(s, ["\t\t__assign_str(drv, foo->drv->name);"], [0])
    assert a.lines[1] == "\t\t__assign_str(label);" and a.lines[2] == "\t\t__assign_str(drv, foo->drv->name);"
    assert not a.ok and "calls __assign_str() in a form" in a.uncarried[0]


def test_an_argument_the_target_lacks_is_dropped_and_both_counts_mean_no_carry():
    s = spec(" \tfoo(a, flags, b);", "+\tfoo(c, flags, d);")
    a = adapt(s, ["\tfoo(a, b);"], [0])
    assert a.ok and a.lines[1] == "\tfoo(c, d);"
    assert "without upstream's argument 2 (flags)" in a.carried[0][0].summary()
    a = adapt(s, ["\tfoo(a, b);", "\tfoo(x, y, z);"], [0])  # the target calls it both ways
    assert a.lines[1] == "\tfoo(c, flags, d);" and not a.carried


def test_a_first_argument_the_target_lacks_is_dropped_even_when_the_target_defines_it():
    # vfs_rmdir() took no idmap before v5.12: init_user_ns exists in the target, the argument does not
    s = spec("-\tstatus = vfs_rmdir(&init_user_ns, d_inode(parent), child);",
             "+\t\tstatus = vfs_rmdir(&init_user_ns, d_inode(parent), victim);")
    a = adapt(s, ["\tstatus = vfs_rmdir(d_inode(parent), child);"], [0], known=lambda name: True, by_base=True)
    assert a.ok, a.uncarried
    assert a.lines == ("\tstatus = vfs_rmdir(d_inode(parent), child);", "\t\tstatus = vfs_rmdir(d_inode(parent), victim);")
    (sub, hs), = a.carried
    assert (sub.kind, hs) == ("argument", (1,))


def test_without_base_a_removed_line_between_verbatim_unique_neighbours_is_deleted_as_the_target_spells_it():
    s = spec(" \tlock(dev);", "-\treturn foo_stop(dev);", "+\tfoo_stop(dev);", "+\tfoo_wait(dev);", " \tunlock(dev);")
    tgt = ["static void f(struct dev *dev)", "{", "\tlock(dev);", "\tfoo_stop(dev);", "\tunlock(dev);", "}"]
    a = adapt(s, tgt, [2, 3, 4])  # alignment, no base
    assert a.ok, a.uncarried
    assert a.lines[1] == "\tfoo_stop(dev);" and a.removed[0].line == 3


def test_without_base_neighbours_that_repeat_or_differ_leave_the_removed_line_refused():
    s = spec(" \tlock(dev);", "-\treturn foo_stop(dev);", " \tunlock(dev);")
    twice = ["\tlock(dev);", "\tfoo_stop(dev);", "\tunlock(dev);", "\tlock(dev);", "\tfoo_go(dev);", "\tunlock(dev);"]
    assert not adapt(s, twice, [0, 1, 2]).ok  # the same two neighbours elsewhere: not unique
    other = ["\tlock(dev);", "\tfoo_stop(dev);", "\tunlock_irq(dev);"]
    assert not adapt(s, other, [0, 1, 2]).ok  # a neighbour differs too
    braces = spec(" {", "-\treturn foo_stop(dev);", " }")
    assert not adapt(braces, ["{", "\tfoo_stop(dev);", "}"], [0, 1, 2]).ok  # braces anchor nothing
    assert adapt(braces, ["{", "\tfoo_stop(dev);", "}"], [0, 1, 2], by_base=True).ok


RXRPC = ["static void put(struct rxrpc_net *rxnet, struct rxrpc_call *call)", "{",
         "\twrite_lock(&rxnet->call_lock);", "\tlist_del_init(&call->link);", "\twrite_unlock(&rxnet->call_lock);",
         "\tspin_lock_bh(&call->lock);", "\tcall->state = 0;", "\tspin_unlock_bh(&call->lock);", "}"]


def test_a_function_renamed_for_one_argument_is_carried_per_call():
    # the target spells the call_lock's calls write_lock() (an rwlock there) and keeps spin_lock_bh()
    # for other locks: the name alone is mixed, the call with its argument is not
    s = spec(" \tspin_lock_bh(&rxnet->call_lock);", "-\tlist_del_init(&call->link);",
             "+\tlist_del(&call->link);", " \tspin_unlock_bh(&rxnet->call_lock);",
             "+\tspin_lock_bh(&rxnet->call_lock);", "+\tspin_lock_bh(&call->lock);",
             "+\tspin_unlock_bh(&rxnet->call_lock);", " \tspin_lock_bh(&call->lock);", " \tcall->state = 0;",
             " \tspin_unlock_bh(&call->lock);", " \tspin_lock_bh(&rxnet->call_lock);", " \tcall->state = 1;",
             " \tspin_unlock_bh(&rxnet->call_lock);")
    tgt = RXRPC[:-1] + ["\twrite_lock(&rxnet->call_lock);", "\tcall->state = 1;", "\twrite_unlock(&rxnet->call_lock);",
                        "}"]
    a = adapt(s, tgt, [2, 3, 4, 5, 6, 7, 8, 9, 10], known=lambda name: True)
    assert a.ok, a.uncarried
    assert a.lines[4:7] == ("\twrite_lock(&rxnet->call_lock);", "\tspin_lock_bh(&call->lock);",
                           "\twrite_unlock(&rxnet->call_lock);")
    assert {sub.kind for sub, _ in a.carried} == {"call"}
    assert a.carried[0][0].summary() == (
        "write write_lock(&rxnet->call_lock) as the target does for these arguments, "
        "not spin_lock_bh(&rxnet->call_lock)")


def test_a_call_rename_seen_once_or_also_made_upstreams_way_is_not_carried():
    s = spec(" \tspin_lock_bh(&rxnet->call_lock);", "-\tlist_del_init(&call->link);",
             "+\tspin_lock_bh(&rxnet->call_lock);")
    a = adapt(s, RXRPC[:5], [2, 3], known=lambda name: True)  # one target line: not several
    assert a.lines[2] == "\tspin_lock_bh(&rxnet->call_lock);" and not a.carried
    s2 = spec(" \tspin_lock_bh(&rxnet->call_lock);", "-\tlist_del_init(&call->link);",
              " \tspin_unlock_bh(&rxnet->call_lock);", "+\tspin_lock_bh(&rxnet->call_lock);")
    mixed = RXRPC + ["\tspin_lock_bh(&rxnet->call_lock);"]
    a = adapt(s2, mixed, [2, 3, 4], known=lambda name: True)
    assert a.lines[3] == "\tspin_lock_bh(&rxnet->call_lock);" and not a.carried


def test_without_base_an_anchor_reaches_past_blank_lines_and_braces_to_a_statement():
    s = spec(" \tfoo_stop(dev);", " ", "-\treturn -ENOTTY;", " }", " ", " static int bar(void)")
    tgt = ["static int foo(struct dev *dev)", "{", "\tfoo_stop(dev);", "", "\treturn 0;", "}", "",
           "static int bar(void)", "{", "\treturn 0;", "}"]
    a = adapt(s, tgt, [2, 3, 4, 5, 6, 7])
    assert a.ok, a.uncarried
    assert a.lines[2] == "\treturn 0;"
    far = spec(" ", "-\treturn -ENOTTY;", " }", " ")  # blank and brace only, nothing named within reach
    assert not adapt(far, ["", "\treturn 0;", "}", ""], [0, 1, 2, 3]).ok


def test_a_local_the_target_function_declares_and_the_hunk_uses_verbatim_is_not_renamed():
    # the callee's argument changed (zap(sig, ...) -> zap(tsk, ...)) and its own parameter is
    # spelled otherwise: "sig" is still foo()'s local, used verbatim on the removed line
    tgt = ["static int zap(struct task_struct *start, int code)", "{", "\treturn code;", "}", "",
           "static int foo(struct task_struct *tsk)", "{", "\tstruct sig *sig = tsk->sig;", "\tint nr = 0;", "",
           "\tif (!(sig->flags & EXIT)) {", "\t\tnr = zap(tsk, 1);", "\t}", "\treturn nr;", "}"]
    s = spec("-\tif (!(sig->flags & EXIT)) {", "+\tif (!(sig->flags & EXIT) &&", "+\t    !sig->frozen) {",
             " \t\tnr = zap(sig, 1);")
    a = adapt(s, tgt, [10, 11], more=[("static int zap(struct sig *sig, int code)", 0)], language="c")
    assert a.ok, a.uncarried
    assert a.lines[1:3] == ("\tif (!(sig->flags & EXIT) &&", "\t    !sig->frozen) {")
    assert not a.carried
    # without a verbatim line using it, the two spellings stay a reason
    s2 = spec(" \t\tnr = zap(sig, 1);", "+\t\tsig->frozen = 1;")
    assert not adapt(s2, tgt, [11], more=[("static int zap(struct sig *sig, int code)", 0)], language="c").ok


def test_a_removed_line_the_hunk_re_adds_elsewhere_takes_the_targets_spelling():
    # upstream moves WRITE_ONCE(q->quantum, quantum) out of the branch unchanged; the target writes
    # the assignment plainly: the moved statement is the target's own, at its new depth
    s = spec(" \tif (tb[Q]) {", "-\t\tif (quantum > 0) {", "-\t\t\tWRITE_ONCE(q->quantum, quantum);", "-\t\t}",
             "+\t\tWRITE_ONCE(q->quantum, quantum);", " \t}")
    tgt = ["\tif (tb[Q]) {", "\t\tif (quantum > 0) {", "\t\t\tq->quantum = quantum;", "\t\t}", "\t}"]
    a = adapt(s, tgt, [0, 1, 2, 3, 4], known=lambda name: True, by_base=True)  # the target has WRITE_ONCE()
    assert a.ok
    assert a.lines[4] == "\t\tq->quantum = quantum;"
    (sub, hs), = [c for c in a.carried if c[0].kind == "moved"]
    assert hs == (4,) and sub.line == 2
    assert sub.summary() == "re-add 'WRITE_ONCE(q->quantum, quantum);', which the hunk moves, as the target writes " \
                            "it: 'q->quantum = quantum;'"


def test_a_rename_onto_a_name_the_added_line_also_uses_is_not_carried():
    # the target's function lost its first parameter; pairing "dsb" with "plane" would turn
    # f(dsb, plane, st) into f(plane, plane, st): two names made one
    s = spec(" \twrite_reg(dsb, REG, 0);", "+\tdisable_fetch(dsb, plane, st);")
    a = adapt(s, ["\twrite_reg(plane, REG, 0);"], [0])
    assert not a.ok and "would make one" in a.uncarried[0]
    assert a.lines[1] == "\tdisable_fetch(dsb, plane, st);"
    # the same across the hunk's new lines: upstream calls both, on two branches
    s = spec(" \tsynchronize_rcu_expedited();", "+\tif (fast)", "+\t\tsynchronize_rcu_expedited();", "+\telse",
             "+\t\tsynchronize_rcu();")
    a = adapt(s, ["\tsynchronize_rcu();"], [0])
    assert not a.ok and a.lines[2] == "\t\tsynchronize_rcu_expedited();"


def test_without_base_two_respelled_lines_in_a_row_between_unique_anchors_are_deleted_as_the_target_spells_them():
    # a whole function removed whose two parameter lines the target types otherwise (u32/u64
    # against unsigned int): both are held 1:1 between the verbatim header and body lines
    s = spec("-static int buffer_alloc(struct heap *heap, size_t len,", "-\t\t\t u32 fd_flags,",
             "-\t\t\t u64 heap_flags)", "-{", "-\tstruct dma_buf *dmabuf;", "-\treturn 0;", "-}")
    tgt = ["static int buffer_alloc(struct heap *heap, size_t len,", "\t\t\t unsigned int fd_flags,",
           "\t\t\t unsigned int heap_flags)", "{", "\tstruct dma_buf *dmabuf;", "\treturn 0;", "}"]
    a = adapt(s, tgt, list(range(7)))  # alignment, no base
    assert a.ok, a.uncarried
    assert [r.line for r in a.removed] == [1, 2]
    assert a.lines[1:3] == ("\t\t\t unsigned int fd_flags,", "\t\t\t unsigned int heap_flags)")
    # four differing lines in a row are more than a respelling held between anchors (at most
    # HELD_LINES others beside the one judged)
    s4 = spec("-static int buffer_alloc(struct heap *heap, size_t len,", "-\t\t\t u32 fd_flags,",
              "-\t\t\t u64 heap_flags,", "-\t\t\t u8 mode,", "-\t\t\t u16 id)", "-{", "-\treturn 0;", "-}")
    t4 = ["static int buffer_alloc(struct heap *heap, size_t len,", "\t\t\t unsigned int fd_flags,",
          "\t\t\t unsigned int heap_flags,", "\t\t\t unsigned int mode,", "\t\t\t unsigned int id)", "{",
          "\treturn 0;", "}"]
    assert not adapt(s4, t4, list(range(8))).ok


def test_a_rename_learned_only_together_with_another_is_not_carried_half():
    # kvm_x86_call(X) is static_call_cond(kvm_x86_X) in the target: two renames of one pattern.
    # An added call of another X would take only the head: reported, not guessed
    s = spec(" \tkvm_x86_call(set_mode)(vcpu);", "+\tkvm_x86_call(update_cr8)(vcpu, tpr);", " \treturn;")
    tgt = ["\tstatic_call_cond(kvm_x86_set_mode)(vcpu);", "\treturn;"]
    a = adapt(s, tgt, [0, 1])
    assert not a.ok
    assert any("respells together with it" in w for w in a.uncarried)
    assert a.lines[1] == "\tkvm_x86_call(update_cr8)(vcpu, tpr);"
    # the same call of the same X takes both
    same = spec(" \tkvm_x86_call(set_mode)(vcpu);", "+\tkvm_x86_call(set_mode)(vcpu2);", " \treturn;")
    a = adapt(same, tgt, [0, 1])
    assert a.ok and a.lines[1] == "\tstatic_call_cond(kvm_x86_set_mode)(vcpu2);"
    # learned alone from another line, the head rename stands on its own
    alone = spec(" \tkvm_x86_call(set_mode)(vcpu);", " \tx = kvm_x86_call;", "+\tkvm_x86_call(update_cr8)(vcpu, tpr);",
                 " \treturn;")
    a = adapt(alone, tgt[:1] + ["\tx = static_call_cond;"] + tgt[1:], [0, 1, 2])
    assert a.ok and a.lines[2] == "\tstatic_call_cond(update_cr8)(vcpu, tpr);"


def test_with_nothing_paired_a_locals_rename_is_judged_in_the_function_the_section_names():
    # lines to respell, none placed yet: the @@ line's function is where 'folios' is 'pages'
    tgt = ["static int other(void)", "{", "\tstruct folio **folios = NULL;", "\treturn 0;", "}", "",
           "static int defrag_range(struct inode *inode)", "{", "\tstruct page **pages;", "", "\tif (!pages)",
           "\t\treturn -ENOMEM;", "\tkfree(pages);", "\treturn 0;", "}"]
    s = HunkSpec(("+", "+"), ("\tkfree(folios);", "\treturn 0;"), 13, "static int defrag_range(struct inode *inode)")
    a = adapt(s, tgt, [], [("\tif (!folios)", 10)], language="c")
    assert a.lines[0] == "\tkfree(pages);" and [sub.local for sub, _ in a.carried] == ["defrag_range"]
    s_none = HunkSpec(("+", "+"), ("\tkfree(folios);", "\treturn 0;"), 13, "")
    assert adapt(s_none, tgt, [], [("\tif (!folios)", 10)], language="c").lines[0] == "\tkfree(folios);"  # other() uses folios
