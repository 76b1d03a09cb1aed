"""Callback return types (backport.apicallback, kb entries with a ``callback`` spec), calls split
over lines and expression templates, end to end through pipeline.port_patch on miniature target
trees: the ported diff `git apply`s, each rewrite is an `adapted` finding naming the target line
it relied on, and what cannot be decided stays an `api-missing` error with the upstream text."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from backport.model import Patch, PortOptions, Series, Severity
from backport.pipeline import port_patch
from backport.series import parse_diff
from backport.target import MemoryTree

MAKEFILE = "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\n"
# a 6.1-like platform_driver: remove returns int, remove_new takes a void callback
PLATFORM_61 = textwrap.dedent("""\
    struct platform_driver {
    \tint (*probe)(struct platform_device *);
    \tint (*remove)(struct platform_device *);
    \tvoid (*remove_new)(struct platform_device *);
    \tvoid (*shutdown)(struct platform_device *);
    };
    """)
PLATFORM_510 = PLATFORM_61.replace("\tvoid (*remove_new)(struct platform_device *);\n", "")
PLATFORM_612 = PLATFORM_510.replace("int (*remove)", "void (*remove)")
DRV = textwrap.dedent("""\
    #include <linux/platform_device.h>

    static int foo_probe(struct platform_device *pdev)
    {
    \treturn 0;
    }

    static struct platform_driver foo_driver = {
    \t.probe = foo_probe,
    \t.driver = { .name = "foo" },
    };
    """)
ADD_REMOVE = textwrap.dedent("""\
    diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
    --- a/drivers/foo/drv.c
    +++ b/drivers/foo/drv.c
    @@ -3,9 +3,17 @@ static int foo_probe(struct platform_device *pdev)
     static int foo_probe(struct platform_device *pdev)
     {
     \treturn 0;
     }
    \x20
    +static void foo_remove(struct platform_device *pdev)
    +{
    +\tif (!platform_get_drvdata(pdev))
    +\t\treturn;
    +\tfoo_teardown(pdev);
    +}
    +
     static struct platform_driver foo_driver = {
     \t.probe = foo_probe,
    +\t.remove = foo_remove,
     \t.driver = { .name = "foo" },
     };
    """)


def _port(files: dict[str, str], diff: str, **opts):
    patch = Patch(subject="foo: fix", files=parse_diff(diff, origin="fix.patch"), diff_text=diff)
    return port_patch(patch, MemoryTree(files), options=PortOptions(**opts), series=Series((patch,)))


def _git_apply(tmp_path: Path, files: dict[str, str], diff: str, path: str = "drivers/foo/drv.c") -> str:
    """``diff`` applied with `git apply` to a fresh repository holding ``files``: ``path`` after."""
    root = tmp_path / "applytree"
    for p, text in files.items():
        (root / p).parent.mkdir(parents=True, exist_ok=True)
        (root / p).write_text(text)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ported.patch").write_text(diff)
    done = subprocess.run(["git", "apply", "ported.patch"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return (root / path).read_text()


def _codes(r, code: str) -> list:
    return [f for f in r.findings if f.code == code]


def _tree(header: str, drv: str = DRV) -> dict[str, str]:
    return {"include/linux/platform_device.h": header, "drivers/foo/drv.c": drv, "Makefile": MAKEFILE}


def test_void_remove_becomes_int_on_a_tree_whose_remove_returns_int(tmp_path: Path):
    files = _tree(PLATFORM_61)
    r = _port(files, ADD_REMOVE)
    new = _git_apply(tmp_path, files, r.text)
    assert ("static int foo_remove(struct platform_device *pdev)\n{\n\tif (!platform_get_drvdata(pdev))\n"
            "\t\treturn 0;\n\tfoo_teardown(pdev);\n\n\treturn 0;\n}\n") in new
    assert "\t.remove = foo_remove,\n" in new and "void foo_remove" not in r.text
    (f,) = _codes(r, "adapted")
    assert f.severity is Severity.WARNING
    assert "make foo_remove() return int: 6.1's platform_driver.remove returns int" in f.message
    assert "include/linux/platform_device.h:3: int (*remove)(struct platform_device *);" in f.evidence
    assert any("0edb555a65d1" in x for x in f.references)
    (a,) = [a for p in r.placements for a in p.adaptations]
    assert a.rule == "api-platform-remove-void" and a.upstream[0] == "+static void foo_remove(struct platform_device *pdev)"
    assert not _codes(r, "api-missing")


def test_remove_new_initialiser_becomes_remove_where_the_struct_has_no_remove_new(tmp_path: Path):
    files = _tree(PLATFORM_510)
    diff = ADD_REMOVE.replace("+\t.remove = foo_remove,", "+\t.remove_new = foo_remove,")
    r = _port(files, diff)
    new = _git_apply(tmp_path, files, r.text)
    assert "\t.remove = foo_remove,\n" in new and "remove_new" not in new
    assert "static int foo_remove(struct platform_device *pdev)" in new
    msg = _codes(r, "adapted")[0].message
    assert "assign foo_remove() to .remove: 6.1's platform_driver has no .remove_new" in msg
    assert {a.rule for p in r.placements for a in p.adaptations} == {"api-platform-remove-void",
                                                                     "api-platform-remove-new"}


def test_remove_initialiser_of_a_void_target_function_uses_the_void_twin(tmp_path: Path):
    drv = DRV.replace("static struct platform_driver",
                      "static void foo_remove(struct platform_device *pdev)\n{\n\tfoo_teardown(pdev);\n}\n\n"
                      "static struct platform_driver")
    diff = textwrap.dedent("""\
        diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
        --- a/drivers/foo/drv.c
        +++ b/drivers/foo/drv.c
        @@ -14,4 +14,5 @@ static void foo_remove(struct platform_device *pdev)
         static struct platform_driver foo_driver = {
         \t.probe = foo_probe,
        +\t.remove = foo_remove,
         \t.driver = { .name = "foo" },
         };
        """)
    files = _tree(PLATFORM_61, drv)
    r = _port(files, diff)
    assert "\t.remove_new = foo_remove,\n" in _git_apply(tmp_path, files, r.text)
    (f,) = _codes(r, "adapted")
    assert "assign foo_remove() to .remove_new" in f.message
    assert any(e.startswith("include/linux/platform_device.h:4: void (*remove_new)") for e in f.evidence)


def test_a_bare_return_added_to_an_int_callback_of_the_target_returns_0(tmp_path: Path):
    drv = DRV.replace("static struct platform_driver",
                      "static int foo_remove(struct platform_device *pdev)\n{\n\tstruct foo *foo = "
                      "platform_get_drvdata(pdev);\n\n\tfoo_teardown(foo);\n\treturn 0;\n}\n\n"
                      "static struct platform_driver").replace("\t.probe = foo_probe,\n",
                                                               "\t.probe = foo_probe,\n\t.remove = foo_remove,\n")
    diff = textwrap.dedent("""\
        diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
        --- a/drivers/foo/drv.c
        +++ b/drivers/foo/drv.c
        @@ -10,4 +10,6 @@ static void foo_remove(struct platform_device *pdev)
         {
         \tstruct foo *foo = platform_get_drvdata(pdev);
        \x20
        +\tif (!foo)
        +\t\treturn;
         \tfoo_teardown(foo);
        """)
    files = _tree(PLATFORM_61, drv)
    r = _port(files, diff)
    assert "\tif (!foo)\n\t\treturn 0;\n\tfoo_teardown(foo);\n" in _git_apply(tmp_path, files, r.text)
    (f,) = _codes(r, "adapted")
    assert "return 0 from foo_remove(): 6.1's foo_remove() returns int" in f.message
    assert "drivers/foo/drv.c:8: static int foo_remove(struct platform_device *pdev)" in f.evidence


def test_a_tree_whose_remove_returns_void_is_left_alone():
    r = _port(_tree(PLATFORM_612), ADD_REMOVE)
    assert "+static void foo_remove(struct platform_device *pdev)" in r.text and "+\t\treturn;" in r.text
    assert not _codes(r, "adapted") and not _codes(r, "api-missing")


def test_a_void_shutdown_callback_is_not_a_remove_callback():
    diff = ADD_REMOVE.replace("foo_remove", "foo_shutdown").replace(".remove =", ".shutdown =")
    r = _port(_tree(PLATFORM_61), diff)
    assert "+static void foo_shutdown(struct platform_device *pdev)" in r.text
    assert not _codes(r, "adapted") and not _codes(r, "api-missing")


def test_an_unassigned_void_remove_is_reported_not_guessed():
    diff = ADD_REMOVE.replace("+\t.remove = foo_remove,\n", "").replace("@@ -3,9 +3,17 @@", "@@ -3,9 +3,16 @@")
    r = _port(_tree(PLATFORM_61), diff)
    (f,) = _codes(r, "api-missing")
    assert f.rule == "api-platform-remove-void" and "not assigned to platform_driver.remove" in f.message
    assert "+static void foo_remove(struct platform_device *pdev)" in r.text and not _codes(r, "adapted")


def test_the_same_kind_for_i2c_and_spi_remove(tmp_path: Path):
    for header, path, struct, ptype, rule in (
            ("include/linux/i2c.h", "i2c_driver", "i2c_driver", "struct i2c_client", "api-i2c-remove-void"),
            ("include/linux/spi/spi.h", "spi_driver", "spi_driver", "struct spi_device", "api-spi-remove-void")):
        h = f"struct {struct} {{\n\tint (*probe)({ptype} *);\n\tint (*remove)({ptype} *);\n}};\n"
        drv = DRV.replace("struct platform_device", ptype).replace("platform_driver", path)
        diff = ADD_REMOVE.replace("struct platform_device", ptype).replace("platform_driver", path)
        files = {header: h, "drivers/foo/drv.c": drv, "Makefile": MAKEFILE}
        r = _port(files, diff)
        assert f"static int foo_remove({ptype} *pdev)" in _git_apply(tmp_path / rule, files, r.text)
        assert {a.rule for p in r.placements for a in p.adaptations} == {rule}
        # the int-returning header is the evidence; a void one leaves the port alone
        files[header] = h.replace("int (*remove)", "void (*remove)")
        assert not _codes(_port(files, diff), "adapted")


# ---------------------------------------------------------------- calls split over lines

TIMER_TREE = {
    "include/linux/hrtimer.h": "extern void hrtimer_init(struct hrtimer *timer, clockid_t which_clock, enum hrtimer_mode mode);\n",
    "include/linux/device/class.h": "#define class_create(owner, name) __class_create(owner, name)\n",
    "include/linux/iommu.h": "extern int iommu_map(struct iommu_domain *d, unsigned long iova, phys_addr_t p, size_t s, int prot);\n"
                             "extern int iommu_map_atomic(struct iommu_domain *d, unsigned long iova, phys_addr_t p, "
                             "size_t s, int prot);\n",
    "include/linux/timer.h": "extern int del_timer_sync(struct timer_list *timer);\n",
    "drivers/foo/bar.c": "#include <linux/hrtimer.h>\n\nstatic int bar_start(struct bar *bar)\n{\n\tbar->on = true;\n\treturn 0;\n}\n",
    "Makefile": MAKEFILE,
}


def _bar_fix(lines: list[str]) -> str:
    body = "".join(f"+{x}\n" for x in lines)
    return (f"diff --git a/drivers/foo/bar.c b/drivers/foo/bar.c\n--- a/drivers/foo/bar.c\n+++ b/drivers/foo/bar.c\n"
            f"@@ -3,5 +3,{5 + len(lines)} @@\n static int bar_start(struct bar *bar)\n {{\n \tbar->on = true;\n"
            f"{body} \treturn 0;\n }}\n")


def _bar(tmp_path: Path, added: list[str], files: dict[str, str] | None = None):
    files = files or TIMER_TREE
    r = _port(files, _bar_fix(added))
    return r, _git_apply(tmp_path, files, r.text, "drivers/foo/bar.c")


def test_a_statement_sequence_split_over_lines_is_rewritten_as_a_whole(tmp_path: Path):
    r, new = _bar(tmp_path, ["\thrtimer_setup(&bar->hrt, bar_hrt_fn,",
                             "\t\t      CLOCK_MONOTONIC, HRTIMER_MODE_REL);"])
    assert "\thrtimer_init(&bar->hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);\n\tbar->hrt.function = bar_hrt_fn;\n" in new
    (a,) = [a for p in r.placements for a in p.adaptations]
    assert a.rule == "api-hrtimer-setup" and len(a.upstream) == 2 and len(a.port) == 2
    assert not _codes(r, "api-missing")


def test_a_signature_change_split_over_lines_is_rewrapped_aligned_with_its_parenthesis(tmp_path: Path):
    r, new = _bar(tmp_path, ["\tret = iommu_map(bar->domain, bar->iova_base + offset, page_to_phys(page),",
                             "\t\t\tPAGE_SIZE, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);",
                             "\tbar->cls = class_create(",
                             "\t\t\"bar\");"])
    assert "GFP_KERNEL" not in new and "\tbar->cls = class_create(THIS_MODULE, \"bar\");\n" in new
    first, second = new.split("\tret = ", 1)[1].split("\n")[:2]
    assert first.endswith(",") and second.startswith("\t\t") and second.endswith("IOMMU_READ | IOMMU_WRITE);")
    # the continuation lines up with the column after "iommu_map("
    assert len(second.expandtabs(8)) - len(second.expandtabs(8).lstrip()) == len("\tret = iommu_map(".expandtabs(8))
    assert {a.rule for p in r.placements for a in p.adaptations} == {"api-iommu-map-gfp", "api-class-create-owner"}


def test_a_rename_in_a_split_call_keeps_the_layout(tmp_path: Path):
    r, new = _bar(tmp_path, ["\tif (timer_delete_sync(&bar->poll_timer) &&", "\t    bar->on)", "\t\tbar->on = false;"])
    assert "\tif (del_timer_sync(&bar->poll_timer) &&\n\t    bar->on)\n" in new


def test_a_split_call_with_a_comment_inside_is_reported_not_guessed():
    r = _port(TIMER_TREE, _bar_fix(["\thrtimer_setup(&bar->hrt, bar_hrt_fn, /* rearmed by bar_kick() */",
                                     "\t\t      CLOCK_MONOTONIC, HRTIMER_MODE_REL);"]))
    (f,) = _codes(r, "api-missing")
    assert f.rule == "api-hrtimer-setup" and "continues on the next line" in f.message
    assert "+\thrtimer_setup(&bar->hrt, bar_hrt_fn, /* rearmed by bar_kick() */" in r.text


# ---------------------------------------------------------------- a realistic driver fix, 6.12 -> 6.1

GPIO_61 = textwrap.dedent("""\
    // SPDX-License-Identifier: GPL-2.0
    #include <linux/gpio/driver.h>
    #include <linux/jiffies.h>
    #include <linux/platform_device.h>
    #include <linux/string_helpers.h>

    struct foo_gpio {
    \tstruct gpio_chip gc;
    \tstruct delayed_work poll;
    \tunsigned int poll_secs;
    };

    static void foo_gpio_set(struct gpio_chip *gc, unsigned int off, int val)
    {
    \tstruct foo_gpio *fg = gpiochip_get_data(gc);

    \tfoo_write(fg, off, val);
    }

    static int foo_gpio_probe(struct platform_device *pdev)
    {
    \tstruct foo_gpio *fg;

    \tfg = devm_kzalloc(&pdev->dev, sizeof(*fg), GFP_KERNEL);
    \tif (!fg)
    \t\treturn -ENOMEM;
    \tplatform_set_drvdata(pdev, fg);
    \treturn devm_gpiochip_add_data(&pdev->dev, &fg->gc, fg);
    }

    static struct platform_driver foo_gpio_driver = {
    \t.probe = foo_gpio_probe,
    \t.driver = {
    \t\t.name = "foo-gpio",
    \t},
    };
    module_platform_driver(foo_gpio_driver);
    """)
GPIO_FIX = textwrap.dedent("""\
    diff --git a/drivers/gpio/gpio-foo.c b/drivers/gpio/gpio-foo.c
    --- a/drivers/gpio/gpio-foo.c
    +++ b/drivers/gpio/gpio-foo.c
    @@ -15,6 +15,8 @@ static void foo_gpio_set(struct gpio_chip *gc, unsigned int off, int val)
     \tstruct foo_gpio *fg = gpiochip_get_data(gc);

     \tfoo_write(fg, off, val);
    +\tdev_dbg(gc->parent, "line %u set %s\\n", off,
    +\t\tstr_high_low(val));
     }

     static int foo_gpio_probe(struct platform_device *pdev)
    @@ -26,11 +28,20 @@ static int foo_gpio_probe(struct platform_device *pdev)
     \tif (!fg)
     \t\treturn -ENOMEM;
     \tplatform_set_drvdata(pdev, fg);
    +\tschedule_delayed_work(&fg->poll, secs_to_jiffies(fg->poll_secs));
     \treturn devm_gpiochip_add_data(&pdev->dev, &fg->gc, fg);
     }

    +static void foo_gpio_remove(struct platform_device *pdev)
    +{
    +\tstruct foo_gpio *fg = platform_get_drvdata(pdev);
    +
    +\tcancel_delayed_work_sync(&fg->poll);
    +}
    +
     static struct platform_driver foo_gpio_driver = {
     \t.probe = foo_gpio_probe,
    +\t.remove = foo_gpio_remove,
     \t.driver = {
     \t\t.name = "foo-gpio",
     \t},
    """).replace("\n\n", "\n \n")
TREE_61 = {
    "include/linux/platform_device.h": PLATFORM_61,
    "include/linux/jiffies.h": "#define MSEC_PER_SEC\t1000L\nunsigned long msecs_to_jiffies(const unsigned int m);\n",
    "include/linux/string_helpers.h": "static inline const char *str_on_off(bool v)\n{\n\treturn v ? \"on\" : \"off\";\n}\n",
    "drivers/gpio/gpio-foo.c": GPIO_61,
    "Makefile": MAKEFILE,
}


def test_a_platform_driver_fix_from_612_onto_a_61_tree_with_int_remove(tmp_path: Path):
    patch = Patch(subject="gpio: foo: stop polling on unbind", files=parse_diff(GPIO_FIX, origin="fix.patch"),
                  diff_text=GPIO_FIX)
    r = port_patch(patch, MemoryTree(TREE_61), options=PortOptions(), series=Series((patch,)))
    new = _git_apply(tmp_path, TREE_61, r.text, "drivers/gpio/gpio-foo.c")
    assert new == dict(r.new_files)["drivers/gpio/gpio-foo.c"]
    assert '\tdev_dbg(gc->parent, "line %u set %s\\n", off,\n\t\tval ? "high" : "low");\n' in new
    assert "\tschedule_delayed_work(&fg->poll, msecs_to_jiffies(fg->poll_secs * MSEC_PER_SEC));\n" in new
    assert ("static int foo_gpio_remove(struct platform_device *pdev)\n{\n\tstruct foo_gpio *fg = "
            "platform_get_drvdata(pdev);\n\n\tcancel_delayed_work_sync(&fg->poll);\n\n\treturn 0;\n}\n") in new
    assert "\t.remove = foo_gpio_remove,\n" in new
    rules = {a.rule for p in r.placements for a in p.adaptations}
    assert rules == {"api-str-high-low", "api-secs-to-jiffies", "api-platform-remove-void"}
    adapted = " ".join(f.message for f in _codes(r, "adapted"))
    assert "make foo_gpio_remove() return int: 6.1's platform_driver.remove returns int" in adapted
    assert "use msecs_to_jiffies(), 6.1 has no secs_to_jiffies()" in adapted
    assert 'write `val ? "high" : "low"`, 6.1 has no str_high_low()' in adapted
    assert not _codes(r, "api-missing")
    for name in ("str_high_low", "secs_to_jiffies"):
        assert not [f for f in r.findings if f.message.startswith(name + ":")]


def test_an_expression_template_is_used_only_where_it_is_safe(tmp_path: Path):
    from kb.api import CannotRewrite, load_api, rewrite_line

    by_id = {e.id: e for e in load_api()}
    # a helper the target has is left alone (6.1's string_helpers.h has str_on_off())
    fix = GPIO_FIX.replace("str_high_low(val)", "str_on_off(val)")
    patch = Patch(subject="gpio: foo: fix", files=parse_diff(fix, origin="fix.patch"), diff_text=fix)
    r = port_patch(patch, MemoryTree(TREE_61), options=PortOptions(), series=Series((patch,)))
    assert "+\t\tstr_on_off(val));" in r.text
    assert "api-str-on-off" not in {a.rule for p in r.placements for a in p.adaptations}
    # a template naming an argument twice never evaluates a call twice
    e = by_id["api-devm-platform-ioremap-resource"]
    try:
        rewrite_line(e, "\tbase = devm_platform_ioremap_resource(to_platform_device(dev), 0);")
        raise AssertionError("rewritten")
    except CannotRewrite as err:
        assert "more than once" in str(err)
    assert rewrite_line(e, "\tbase = devm_platform_ioremap_resource(pdev, 0);") == [
        "\tbase = devm_ioremap_resource(&pdev->dev, platform_get_resource(pdev, IORESOURCE_MEM, 0));"]
    # an expression that is not primary is parenthesised where precedence needs it
    assert rewrite_line(by_id["api-str-yes-no"], "\tn = strlen(str_yes_no(a || b));") == [
        '\tn = strlen((a || b) ? "yes" : "no");']
    assert rewrite_line(by_id["api-str-yes-no"], "\tc = *str_yes_no(x);") == ['\tc = *(x ? "yes" : "no");']


I2C_61 = textwrap.dedent("""\
    struct i2c_driver {
    \tint (*probe)(struct i2c_client *client, const struct i2c_device_id *id);
    \tvoid (*remove)(struct i2c_client *client);
    \tint (*probe_new)(struct i2c_client *client);
    };
    """)
I2C_DRV = textwrap.dedent("""\
    #include <linux/i2c.h>

    static struct i2c_driver foo_driver = {
    \t.driver = { .name = "foo" },
    };
    """)
I2C_FIX = textwrap.dedent("""\
    diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
    --- a/drivers/foo/drv.c
    +++ b/drivers/foo/drv.c
    @@ -1,5 +1,11 @@
     #include <linux/i2c.h>
    \x20
    +static int foo_probe(struct i2c_client *client)
    +{
    +\treturn foo_init(client);
    +}
    +
     static struct i2c_driver foo_driver = {
    +\t.probe = foo_probe,
     \t.driver = { .name = "foo" },
     };
    """)


def test_a_one_parameter_i2c_probe_goes_to_probe_new_where_probe_takes_the_id(tmp_path: Path):
    files = {"include/linux/i2c.h": I2C_61, "drivers/foo/drv.c": I2C_DRV, "Makefile": MAKEFILE}
    r = _port(files, I2C_FIX)
    new = _git_apply(tmp_path, files, r.text)
    assert "\t.probe_new = foo_probe,\n" in new and "static int foo_probe(struct i2c_client *client)\n" in new
    (f,) = _codes(r, "adapted")
    assert "assign foo_probe() to .probe_new: 6.1's i2c_driver.probe takes 2 parameters" in f.message
    assert any(e.startswith("include/linux/i2c.h:4: int (*probe_new)") for e in f.evidence)
    assert not _codes(r, "api-missing")
    # a tree whose probe takes one parameter (v6.3+) needs nothing
    files["include/linux/i2c.h"] = I2C_61.replace(", const struct i2c_device_id *id", "")
    r = _port(files, I2C_FIX)
    assert "+\t.probe = foo_probe," in r.text and not _codes(r, "adapted") and not _codes(r, "api-missing")
    # a tree without probe_new: reported with the commit, upstream's text kept
    files["include/linux/i2c.h"] = I2C_61.replace("\tint (*probe_new)(struct i2c_client *client);\n", "")
    r = _port(files, I2C_FIX)
    (f,) = _codes(r, "api-missing")
    assert f.rule == "api-i2c-probe-one-arg" and "03c835f498b5" in f.message and "+\t.probe = foo_probe," in r.text


def _drv_with_void_remove(definition: str, value: str) -> str:
    """DRV with a void remove function (``definition``: its head) registered as .remove_new = value."""
    return DRV.replace("static struct platform_driver",
                       f"static {definition}(struct platform_device *pdev)\n{{\n\tfoo_teardown(pdev);\n}}\n\n"
                       "static struct platform_driver").replace(
                           "\t.probe = foo_probe,\n", f"\t.probe = foo_probe,\n\t.remove_new = {value},\n")


def test_upstreams_switch_from_remove_new_to_remove_keeps_remove_new_through_a_pointer_wrapper(tmp_path: Path):
    """The v6.11 treewide .remove_new -> .remove switch in a patch's own lines, on a tree whose
    .remove still returns int: the void function stays on .remove_new, also when the initialiser
    wraps it in __exit_p() (a pointer-or-NULL macro)."""
    drv = _drv_with_void_remove("void __exit foo_remove", "__exit_p(foo_remove)")
    diff = textwrap.dedent("""\
        diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
        --- a/drivers/foo/drv.c
        +++ b/drivers/foo/drv.c
        @@ -14,5 +14,5 @@ static void __exit foo_remove(struct platform_device *pdev)
         static struct platform_driver foo_driver = {
         \t.probe = foo_probe,
        -\t.remove_new = __exit_p(foo_remove),
        +\t.remove = __exit_p(foo_remove),
         \t.driver = { .name = "foo" },
         };
        """)
    files = _tree(PLATFORM_61, drv)
    r = _port(files, diff)
    assert "\t.remove = __exit_p" not in r.text and "remove_new" not in r.text  # the target's line stays
    (f,) = _codes(r, "adapted")
    assert "assign foo_remove() to .remove_new" in f.message
    # on a tree whose .remove is void (6.11+) the switch is upstream's and is kept
    files = _tree(PLATFORM_612.replace("\tvoid (*shutdown)", "\tvoid (*remove_new)(struct platform_device *);\n"
                                       "\tvoid (*shutdown)"), drv)
    r = _port(files, diff)
    assert "+\t.remove = __exit_p(foo_remove)," in r.text and not _codes(r, "adapted")


def test_a_void_function_the_target_file_assigns_to_remove_new_stays_void(tmp_path: Path):
    """A patch rewrites a remove function (void upstream) that the target file registers as
    .remove_new, whose type is void there: nothing to convert."""
    drv = _drv_with_void_remove("void foo_remove", "foo_remove")
    diff = textwrap.dedent("""\
        diff --git a/drivers/foo/drv.c b/drivers/foo/drv.c
        --- a/drivers/foo/drv.c
        +++ b/drivers/foo/drv.c
        @@ -6,9 +6,10 @@ static int foo_probe(struct platform_device *pdev)
         }
        \x20
        -static void foo_remove(struct platform_device *pdev)
        -{
        -\tfoo_teardown(pdev);
        -}
        +static void foo_remove(struct platform_device *pdev)
        +{
        +\tfoo_quiesce(pdev);
        +\tfoo_teardown(pdev);
        +}
        \x20
         static struct platform_driver foo_driver = {
         \t.probe = foo_probe,
        """)
    files = _tree(PLATFORM_61, drv)
    r = _port(files, diff)
    assert not _codes(r, "adapted") and not _codes(r, "api-missing")
    assert "int foo_remove" not in r.text
    assert "\tfoo_quiesce(pdev);\n" in _git_apply(tmp_path, files, r.text)
