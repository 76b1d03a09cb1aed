"""What a patch uses and defines (stage: deps): names read from added lines, no tree access.

Inputs: model.Patch values (their hunks). Outputs: Need values (a name an added line uses:
call, member, tag, plain name, CONFIG_ symbol, assembly symbol, Makefile variable, object,
header, with the patch line) and SeriesDefs (what the series' own post-images define:
functions, macros, enumerators, locals, members, Kconfig symbols, Makefile variables, files).
Comments and strings are stripped first; C keywords, compiler builtins and the C library's
names are listed here so deps never reports them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from .index import file_class, scan_asm, scan_c, scan_kbuild, scan_kconfig
from .model import HunkLine, LineKind, Patch, SourceRef

# ------------------------------------------------------------------ vocabularies

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
_Bool _Complex _Imaginary _Alignas _Alignof _Atomic _Generic _Noreturn _Static_assert _Thread_local bool true
false asm typeof typeof_unqual alignof static_assert defined elif endif ifdef ifndef undef include error
pragma warning line define NULL nullptr
""".split())
BUILTINS = frozenset("""
__attribute__ __attribute __typeof__ __typeof __alignof__ __alignof __asm__ __asm __volatile__ __volatile
__inline__ __inline __extension__ __func__ __FUNCTION__ __PRETTY_FUNCTION__ __LINE__ __FILE__ __DATE__
__TIME__ __COUNTER__ __BASE_FILE__ __VA_ARGS__ __VA_OPT__ __has_attribute __has_builtin __has_include
__has_feature __auto_type __label__ __restrict __restrict__ __signed__ __const__ __int128 __seg_gs __seg_fs
__GNUC__ __GNUC_MINOR__ __clang__ __KERNEL__ __ASSEMBLY__ __STDC__ __STDC_VERSION__ __OPTIMIZE__
__CHAR_BIT__ __SIZEOF_LONG__ __SIZEOF_POINTER__ __BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__ __ORDER_BIG_ENDIAN__
__x86_64__ __i386__ __aarch64__ __arm__ __powerpc__ __powerpc64__ __s390__ __s390x__ __mips__ __riscv
__LP64__ __CHECKER__ __COUNTER__ __INCLUDE_LEVEL__ __SANITIZE_ADDRESS__ __always_inline__ noinline
packed aligned unused used section format cold hot weak alias noreturn pure const_ always_inline deprecated
fallthrough
""".split())
# names of the C library and POSIX (tools/, scripts/, samples/ and selftests build against them)
LIBC = frozenset("""
printf fprintf sprintf snprintf vprintf vfprintf vsnprintf puts fputs putchar fputc getchar fgets fopen fclose
fread fwrite fflush fseek ftell rewind feof ferror perror stdin stdout stderr FILE EOF BUFSIZ malloc calloc
realloc free exit _exit abort atexit getenv setenv atoi atol strtol strtoul strtoll strtoull strtod qsort
bsearch abs labs rand srand memcpy memmove memset memcmp memchr strlen strnlen strcpy strncpy strcat strncat
strcmp strncmp strchr strrchr strstr strdup strndup strerror strtok strsep strspn strcspn strcasecmp
strncasecmp errno EINTR EAGAIN ENOENT ENOMEM EINVAL EPERM EEXIST EBUSY ENODEV ENOSYS EOPNOTSUPP ENOTSUP
open close read write lseek ioctl mmap munmap mprotect fork execv execve execvp waitpid wait kill getpid
getppid getuid geteuid gettid pipe dup dup2 unlink rmdir mkdir chdir stat fstat lstat access sleep usleep
nanosleep clock_gettime time gettimeofday select poll socket bind listen accept connect send recv sendto
recvfrom setsockopt getsockopt pthread_create pthread_join pthread_mutex_lock pthread_mutex_unlock
pthread_t pthread_mutex_t size_t ssize_t off_t pid_t uid_t gid_t mode_t time_t clock_t intptr_t uintptr_t
ptrdiff_t wchar_t int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t intmax_t uintmax_t
va_list va_start va_end va_arg va_copy offsetof assert EXIT_SUCCESS EXIT_FAILURE O_RDONLY O_WRONLY O_RDWR
O_CREAT O_TRUNC O_APPEND O_NONBLOCK O_CLOEXEC SEEK_SET SEEK_CUR SEEK_END PROT_READ PROT_WRITE PROT_EXEC
MAP_SHARED MAP_PRIVATE MAP_ANONYMOUS MAP_FAILED CLOCK_MONOTONIC CLOCK_REALTIME INT_MAX INT_MIN UINT_MAX
LONG_MAX LONG_MIN ULONG_MAX CHAR_BIT SIZE_MAX PATH_MAX UINT64_MAX INT64_MAX UINT32_MAX INT32_MAX timespec
timeval sockaddr sockaddr_in sockaddr_un main argc argv environ sigaction signal sigemptyset SIGINT SIGTERM
SIGKILL SIGCHLD SIGSEGV syscall isatty isdigit isalpha isspace isupper islower isalnum isxdigit isprint
toupper tolower R_OK W_OK X_OK F_OK
""".split())
ASM_WORDS = frozenset("""
b bl blr br ret bx blx beq bne bgt blt bge ble bhi bls bcc bcs bmi bpl cbz cbnz tbz tbnz call jmp je jne jz
jnz ja jb jae jbe jg jl jge jle adr adrp la ldr str ldp stp mov movl movq lea push pop
""".split())

# identifiers and what precedes/follows them; numbers are consumed first so 0x10UL is no word
RE_TOKEN = re.compile(r"(->|\.)?\s*\b([A-Za-z_]\w*)\b(\s*\()?|\b\d[\w.]*")
# "a string"   /   'c'
RE_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
RE_WORD = re.compile(r"[A-Za-z_]\w*")
RE_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
#  * continuation of a block comment
RE_COMMENT_CONT = re.compile(r"^[ \t]*\*(?!/)(?:[ \t][^\n]*)?$", re.M)
# CONFIG_FOO   /   CONFIG_FOO_MODULE (inside IS_ENABLED, #ifdef, Makefiles)
RE_CONFIG = re.compile(r"\bCONFIG_([A-Za-z0-9_]+)")
# struct foo   /   enum bar
RE_TAG_USE = re.compile(r"\b(?:struct|union|enum)\s+([A-Za-z_]\w*)")
# #define FOO(a, b)
RE_FMACRO_PARAMS = re.compile(r"^\s*#\s*define\s+\w+\(([^)]*)\)")
# int a = 1, *b;   /   struct foo *p;   /   u64 regs[4];   (declarations in added lines)
RE_LOCAL_DECL = re.compile(
    r"^\s*(?:(?:const|static|volatile|unsigned|signed|struct|union|enum|register|__\w+)\s+)*"
    r"[A-Za-z_]\w*[\s*]+(?:(?:__\w+|const)[\s*]+)*([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?(?:__\w+(?:\([^()]*\))?\s*)*(?:=|;|,|\)|$)")
# , *b = 3   (further declarators of the same declaration)
RE_MORE_DECL = re.compile(r",\s*\**\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?==|,|;)")
# for (int i = 0;   /   (struct foo *f, int n)  parameters of an added prototype
RE_PARAM = re.compile(r"(?:\(|,)\s*(?:const\s+|struct\s+|unsigned\s+|enum\s+|union\s+)*[A-Za-z_]\w*[\s*]+([A-Za-z_]\w*)\s*(?=[,)=\[;])")
# void (*opt_child_init)(struct sock *sk);   (a function pointer declared)
RE_FNPTR_DECL = re.compile(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(")
# static DEFINE_RATELIMIT_STATE(_rs, 2 * HZ, 5);   /   DECLARE_BITMAP(mask, 64);
RE_DEFINE_ARG = re.compile(r"\b(?:DEFINE|DECLARE)_\w+\(\s*([A-Za-z_]\w*)")
# smk_ops = {   (the rest of a declaration split over two lines)
RE_INIT_DECL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?=\s*\{")
# #include <linux/cleanup.h>   /   #include "internal.h"
RE_INCLUDE = re.compile(r'^\s*#\s*include\s*([<"][^>"]+[>"])')
# __has_attribute(btf_type_tag)   /   __has_builtin(__builtin_foo)   (their argument is no symbol)
RE_HAS_FEATURE = re.compile(r"\b__has_(?:attribute|builtin|include|include_next|feature|extension|c_attribute)\s*\([^)]*\)")
# *(.text.hot)   /   KEEP(*(__mcount_loc))   (linker input sections, in vmlinux.lds.h macros)
RE_LDS_INPUT = re.compile(r"^\s*(?:KEEP\(\s*)?\*\(")
RE_LDS_SECTION = re.compile(r"\*\(\s*[^)]*\)")
# #if defined(X)   /   #ifdef Y   /   #elif __has_attribute(z)
RE_PP_COND = re.compile(r"^\s*#\s*(?:if|ifdef|ifndef|elif|elifdef|elifndef|undef)\b")
# enum foo {   /   enum {   /   typedef enum {
RE_ENUM_OPEN = re.compile(r"\benum\b[^;()=]*\{")
#   FOO_NEW = 3   (one enumerator)
RE_ENUMERATOR = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:=.*)?$")
# label:   (goto targets)
RE_LABEL = re.compile(r"^\s*([A-Za-z_]\w*):(?!:)")
# Kconfig expressions: depends on FOO && BAR   /   select BAZ if QUX
RE_KCONFIG_REF = re.compile(r"^\s*(?:depends\s+on|select|imply|default|def_bool|def_tristate|visible\s+if|if|range)\b(.*)$")
RE_KCONFIG_SYM = re.compile(r"\b([A-Z][A-Z0-9_]+)\b")
# $(CC_FLAGS_FTRACE)   /   ${KBUILD_CFLAGS}
RE_MAKE_VAR_USE = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]")
# bl foo   /   b.ne 1f   /   adrp x0, foo   /   call foo
RE_ASM_BRANCH = re.compile(r"^\s*(?:[A-Za-z_.$][\w.$]*:\s*)?(?:bl|b|call|jmp|tail|j|adr|adrp|la)\s+(?:\w+\s*,\s*)?([A-Za-z_][\w$]*)\s*(?:$|//|/\*|;|@|#)")
# #S_FP   /   [sp, #S_X0]   /   ASM_OFFSET   (uppercase names in assembly)
RE_ASM_CONST = re.compile(r"#\s*([A-Z_][A-Z0-9_]{2,})\b|\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")
# obj-y += foo.o bar/
RE_MAKE_OBJ = re.compile(r"^(?:obj|lib|[\w-]+)-(?:y|m|objs|\$\(CONFIG_\w+\))$")
# make's own variables and functions, and kbuild's always-present ones
MAKE_BUILTINS = frozenset("""
CC LD AR AS NM OBJCOPY OBJDUMP STRIP CPP HOSTCC HOSTCXX HOSTLD MAKE MAKEFLAGS SHELL CURDIR srctree objtree
src obj quiet Q V ARCH SRCARCH SUBARCH CROSS_COMPILE KBUILD_CFLAGS KBUILD_AFLAGS KBUILD_CPPFLAGS
KBUILD_LDFLAGS KBUILD_CFLAGS_MODULE KBUILD_EXTMOD LINUXINCLUDE NOSTDINC_FLAGS call if_changed cc-option
cc-disable-warning as-option ld-option cc-ifversion shell addprefix addsuffix patsubst subst filter
filter-out wildcard foreach notdir dir basename strip sort word words firstword lastword origin info
warning error abspath realpath value eval CONFIG_SHELL PYTHON3 PERL AWK KERNELRELEASE KERNELVERSION
VERSION PATCHLEVEL SUBLEVEL EXTRAVERSION ccflags-y asflags-y ldflags-y subdir-ccflags-y
""".split())


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True)
class Need:
    """One name an added line uses."""

    name: str
    kind: str  # call, member, tag, name, kconfig, asm, makevar, object
    ref: SourceRef | None
    text: str  # the added line
    path: str  # the file patched
    file_index: int = -1  # which FilePatch and hunk of the patch
    hunk_index: int = -1
    #: for a CONFIG_ test in a hunk's context: the first added line it guards (else None)
    guards: HunkLine | None = None


@dataclass(slots=True)
class SeriesDefs:
    """Names the series itself defines (patches up to the one being checked).

    ``origins`` maps each name of ``names`` and ``members`` to the hunks that define it, as
    (patch position in the list given to find_series_defs, file index, hunk index): deps asks
    whether one of them landed before it counts the name as provided (backport.landing).
    """

    names: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    kconfig: set[str] = field(default_factory=set)
    makevars: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    origins: dict[str, set[tuple[int, int, int]]] = field(default_factory=dict)


# ------------------------------------------------------------------ extraction


def strip_c(text: str) -> str:
    """Comments and string/char literals blanked (line structure kept). A hunk can start inside
    a comment: text before a ``*/`` with no opener, and `` * ...`` continuation lines, go too."""
    close, open_ = text.find("*/"), text.find("/*")
    if close >= 0 and (open_ < 0 or close < open_):
        text = "\n" * text.count("\n", 0, close) + text[close + 2:]
    opener = text.rfind("/*")
    if opener >= 0 and text.find("*/", opener) < 0:
        text = text[:opener] + "\n" * text.count("\n", opener)
    text = RE_COMMENT_CONT.sub("", text)
    text = RE_BLOCK_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = RE_STRING.sub('""', text)
    return re.sub(r"//[^\n]*", "", text)


def _hunk_post_text(lines: Sequence[HunkLine]) -> tuple[str, list[int]]:
    """Post-image text of a hunk and, per line of it, the index into ``lines`` (-1 for context)."""
    out, where = [], []
    for i, ln in enumerate(lines):
        if ln.kind is LineKind.REMOVED:
            continue
        out.append(ln.text)
        where.append(i if ln.kind is LineKind.ADDED else -1)
    return "\n".join(out), where


def _declared_in(text: str) -> set[str]:
    """Locals, parameters, macro parameters and labels declared anywhere in ``text``."""
    names: set[str] = set()
    for line in text.splitlines():
        m = RE_LOCAL_DECL.match(line)
        if m:
            names.add(m.group(1))
            names.update(RE_MORE_DECL.findall(line[m.end(1):]))
        names.update(RE_PARAM.findall(line))
        m = RE_FMACRO_PARAMS.match(line)
        if m:
            names.update(p.strip() for p in m.group(1).split(",") if p.strip())
        m = RE_LABEL.match(line)
        if m:
            names.add(m.group(1))
        names.update(RE_FNPTR_DECL.findall(line))
        names.update(RE_DEFINE_ARG.findall(line))
        m = RE_INIT_DECL.match(line)
        if m:
            names.add(m.group(1))
    return names


def _added_enumerators(h) -> set[str]:  # noqa: ANN001
    """Enumerators the hunk adds inside an enum body (``+\tFOO_NEW = 3,``): the hunk header's
    section or an ``enum ... {`` line of the hunk opens the body, ``}`` closes it."""
    names: set[str] = set()
    in_enum = bool(RE_ENUM_OPEN.search(h.section or ""))
    for ln in h.lines:
        if ln.kind is LineKind.REMOVED:
            continue
        text = RE_BLOCK_COMMENT.sub("", ln.text).split("//")[0]
        if RE_ENUM_OPEN.search(text):
            in_enum = True
            text = text.split("{", 1)[1]
        if in_enum and ln.kind is LineKind.ADDED:
            for item in text.split(","):
                m = RE_ENUMERATOR.match(item)
                if m:
                    names.add(m.group(1))
        if "}" in text:
            in_enum = False
    return names


def _added_clean(lines: Sequence[HunkLine]) -> Iterator[tuple[str, HunkLine]]:
    """(added line with comments and strings stripped, the line) for each added line, the
    stripping done over the hunk's whole post-image so comments spanning lines are seen."""
    text, where = _hunk_post_text(lines)
    for j, line in enumerate(strip_c(text).split("\n")):
        if j < len(where) and where[j] >= 0:
            yield line, lines[where[j]]


def find_needs_c(path: str, lines: Sequence[HunkLine]) -> Iterator[Need]:
    """Names used by the added lines of one C hunk."""
    in_cond = False  # inside a #if spread over lines with backslashes
    for line, hl in _added_clean(lines):
        cond = in_cond or bool(RE_PP_COND.match(line))
        in_cond = cond and line.rstrip().endswith("\\")
        line = RE_HAS_FEATURE.sub(" ", line)
        if ".lds" in path or (RE_LDS_INPUT.match(line) and line.rstrip().endswith("\\")):
            line = RE_LDS_SECTION.sub(" ", line)  # *(__patchable_function_entries): section names
        m = RE_INCLUDE.match(hl.text)
        if m:
            yield Need(m.group(1), "header", hl.ref, hl.text, path)
            continue
        if line.lstrip().startswith("#") and re.match(r"\s*#\s*(include|error|warning|pragma)\b", line):
            continue
        for m in RE_CONFIG.finditer(line):
            yield Need(m.group(1), "kconfig", hl.ref, hl.text, path)
        if cond:
            continue  # #ifdef FOO / #if defined(__x86_64__): the name may be undefined on purpose
        tags = {m.start(1) for m in RE_TAG_USE.finditer(line)}
        for m in RE_TOKEN.finditer(line):
            name = m.group(2)
            if not name or name.startswith("CONFIG_"):
                continue
            if line[m.end(2): m.end(2) + 2] == "##" or line[max(0, m.start(2) - 2): m.start(2)] == "##":
                continue  # token pasting builds the real name
            if m.group(1):
                kind = "member"
            elif m.start(2) in tags:
                kind = "tag"
            elif m.group(3):
                kind = "call"
            else:
                kind = "name"
            yield Need(name, kind, hl.ref, hl.text, path)


def find_needs_asm(path: str, lines: Sequence[HunkLine]) -> Iterator[Need]:
    """Branch targets, asm-offsets/macro constants and CONFIG_ symbols of an assembly hunk."""
    for line, hl in _added_clean(lines):
        if re.match(r"\s*#\s*(include|if|ifdef|ifndef|else|endif|define|error)\b", line):
            for m in RE_CONFIG.finditer(line):
                yield Need(m.group(1), "kconfig", hl.ref, hl.text, path)
            continue
        for m in RE_CONFIG.finditer(line):
            yield Need(m.group(1), "kconfig", hl.ref, hl.text, path)
        branch = RE_ASM_BRANCH.match(line)
        if branch and branch.group(1) not in ASM_WORDS:
            yield Need(branch.group(1), "asm", hl.ref, hl.text, path)
        for c in RE_ASM_CONST.finditer(line):
            name = c.group(1) or c.group(2)
            if not name.startswith("CONFIG_"):
                yield Need(name, "asm", hl.ref, hl.text, path)


def find_needs_kconfig(path: str, lines: Sequence[HunkLine]) -> Iterator[Need]:
    for hl in lines:
        if hl.kind is not LineKind.ADDED:
            continue
        m = RE_KCONFIG_REF.match(hl.text.split("#", 1)[0])
        if m:
            expr = RE_STRING.sub("", m.group(1))
            for s in RE_KCONFIG_SYM.findall(expr):
                if s not in ("y", "n", "m"):
                    yield Need(s, "kconfig", hl.ref, hl.text, path)


def find_needs_kbuild(path: str, lines: Sequence[HunkLine]) -> Iterator[Need]:
    d = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    for hl in lines:
        if hl.kind is not LineKind.ADDED or hl.text.lstrip().startswith("#"):
            continue
        for m in RE_CONFIG.finditer(hl.text):
            yield Need(m.group(1), "kconfig", hl.ref, hl.text, path)
        for v in RE_MAKE_VAR_USE.findall(hl.text):
            if not v.startswith("CONFIG_"):
                yield Need(v, "makevar", hl.ref, hl.text, path)
        for _, var, _, value in scan_kbuild(hl.text):
            if RE_MAKE_OBJ.match(var):
                for word in value.split():
                    if word.endswith(".o") and "$" not in word:
                        yield Need(d + word, "object", hl.ref, hl.text, path)


def find_needs(patch: Patch) -> list[Need]:
    needs: list[Need] = []
    for fi, fp in enumerate(patch.files):
        if fp.is_deleted or fp.is_binary:
            continue
        cls = file_class(fp.path)
        finder = {"c": find_needs_c, "asm-offsets": find_needs_c, "asm": find_needs_asm,
                  "kconfig": find_needs_kconfig, "kbuild": find_needs_kbuild}.get(cls or "")
        if finder is None:
            continue
        for hi, h in enumerate(fp.hunks):
            needs.extend(replace(n, file_index=fi, hunk_index=hi) for n in finder(fp.path, h.lines))
    return needs


# a trace event's TP_STRUCT__entry field: __field(type, name), __array(type, name, n), ... (the
# type first) or __string(name, src), __bitmask(name, nr), ... (the name first): a member of the
# event's entry that TP_fast_assign and TP_printk reach as __entry->name or __get_str(name)
RE_TRACE_FIELD = re.compile(
    r"\b__(?:field|field_ext|field_struct|field_struct_ext|array|dynamic_array|rel_dynamic_array)\(\s*"
    r"[^,()]+,\s*([A-Za-z_]\w*)\s*[,)]"
    r"|\b__(?:string|string_len|rel_string|rel_string_len|vstring|bitmask|rel_bitmask|cpumask|rel_cpumask"
    r"|sockaddr)\(\s*([A-Za-z_]\w*)\s*[,)]")


def find_series_defs(patches: Iterable[Patch]) -> SeriesDefs:
    """What the given patches define in their post-images (added lines and their hunks)."""
    out = SeriesDefs()
    for pi, patch in enumerate(patches):
        for fi, fp in enumerate(patch.files):
            if fp.is_deleted:
                continue
            out.files.add(fp.path)
            cls = file_class(fp.path)
            for hi, h in enumerate(fp.hunks):
                names: set[str] = set()
                members: set[str] = set()
                post = "\n".join(h.new_lines)
                if cls in ("c", "asm-offsets", "asm"):
                    data = ("\n" + post + "\n").encode("utf-8", "surrogateescape")
                    rows = scan_asm(data, fp.path) if cls == "asm" else scan_c(data)
                    for name, kind, _, _ in rows:
                        (members if kind == "member" else names).add(name)
                    if cls != "asm":
                        added = "\n".join(ln.text for ln in h.added)
                        declared = _declared_in(added)
                        names.update(declared)
                        members.update(declared)
                        names.update(_added_enumerators(h))
                    for m in re.finditer(r"^\s*([A-Za-z_.$][\w.$]*):|SYM_\w+\(\s*(\w+)|^\s*\.macro\s+(\w+)"
                                         r"|\b(?:DEFINE|OFFSET)\(\s*(\w+)", post, re.M):
                        names.add(next(g for g in m.groups() if g))
                    for m in RE_TRACE_FIELD.finditer(post):  # __entry->name and __get_str(name)
                        field = m.group(1) or m.group(2)
                        names.add(field)
                        members.add(field)
                elif cls == "kconfig":
                    out.kconfig.update(n for n, *_ in scan_kconfig(post))
                elif cls == "kbuild":
                    for _, var, _, _ in scan_kbuild(post):
                        out.makevars.add(var)
                out.names |= names
                out.members |= members
                for n in names | members:
                    out.origins.setdefault(n, set()).add((pi, fi, hi))
    return out


# ------------------------------------------------------------------ context the hunk depends on

# #ifdef CONFIG_X   /   #if defined(CONFIG_X) && ...   /   #elif IS_ENABLED(CONFIG_Y)
RE_PP_OPEN = re.compile(r"^\s*#\s*(if|ifdef|ifndef)\b(.*)$")
RE_PP_ELSE = re.compile(r"^\s*#\s*(elif|else|elifdef|elifndef)\b(.*)$")
RE_PP_END = re.compile(r"^\s*#\s*endif\b")
# ifeq ($(CONFIG_X),y)   /   ifdef CONFIG_X   /   ifneq ($(CONFIG_X),)
RE_MAKE_OPEN = re.compile(r"^\s*(ifeq|ifneq|ifdef|ifndef)\b(.*)$")
RE_MAKE_ELSE = re.compile(r"^\s*else\b(.*)$")
RE_MAKE_END = re.compile(r"^\s*endif\b")
# if (IS_ENABLED(CONFIG_X)) {   /   } else if (!IS_REACHABLE(CONFIG_Y))
RE_C_IF_CONFIG = re.compile(r"\bif\s*\(.*\b(?:IS_ENABLED|IS_BUILTIN|IS_MODULE|IS_REACHABLE)\s*\(\s*CONFIG_\w+")


def find_context_needs(path: str, lines: Sequence[HunkLine]) -> Iterator[Need]:
    """CONFIG_ symbols tested by context lines that enclose added lines of one hunk: a
    ``#if``/``#ifdef`` (C, assembly) or ``ifeq``/``ifdef`` (Make) opened in the context and
    still open at an added line, or a C ``if (IS_ENABLED(CONFIG_X))`` whose block (or single
    statement) holds one. Each Need's ``ref``/``text`` is the context line, ``guards`` the
    first added line it encloses. Conditions opened before the hunk are not seen."""
    cls = file_class(path)
    if cls not in ("c", "asm-offsets", "asm", "kbuild"):
        return
    make = cls == "kbuild"
    opener, other, end = (RE_MAKE_OPEN, RE_MAKE_ELSE, RE_MAKE_END) if make else (RE_PP_OPEN, RE_PP_ELSE, RE_PP_END)
    stack: list[tuple[HunkLine | None, bool]] = []  # (context line with CONFIG_ tests or None, reported)
    braces: list[tuple[int, HunkLine]] = []  # C blocks opened by a context if (IS_ENABLED(...)) {
    depth = 0
    single: HunkLine | None = None  # a context if (...) without a brace: guards the next line
    post = [ln for ln in lines if ln.kind is not LineKind.REMOVED]
    texts = (strip_c("\n".join(ln.text for ln in post)).split("\n") if not make
             else [ln.text.split("#", 1)[0] for ln in post])
    done: set[int] = set()
    for ln, text in zip(post, texts, strict=False):
        if ln.kind is LineKind.ADDED:
            guards = [g for g, _ in stack if g is not None] + [g for _, g in braces]
            if single is not None:
                guards.append(single)
            for g in guards:
                if id(g) in done:
                    continue
                done.add(id(g))
                for m in RE_CONFIG.finditer(g.text.split("#", 1)[0] if make else strip_c(g.text)):
                    yield Need(m.group(1), "kconfig", g.ref, g.text, path, guards=ln)
        ctx = ln.kind is LineKind.CONTEXT
        if end.match(text):
            if stack:
                stack.pop()
        elif opener.match(text):
            stack.append((ln if ctx and RE_CONFIG.search(text) else None, False))
        elif other.match(text) and stack and ctx and RE_CONFIG.search(text):
            stack[-1] = (ln, False)
        if make:
            continue
        single = ln if ctx and RE_C_IF_CONFIG.search(text) and not text.rstrip().endswith(("{", ";")) else None
        opens, closes = text.count("{"), text.count("}")
        if ctx and RE_C_IF_CONFIG.search(text) and opens > closes:
            braces.append((depth, ln))
        depth += opens - closes
        while braces and depth <= braces[-1][0]:
            braces.pop()


def find_edited_functions(path: str, hunk) -> list[tuple[str, HunkLine | None]]:  # noqa: ANN001
    """The functions a C hunk edits: the one its ``@@`` header names (when the header opens a
    function definition) and those a context line defines; (name, the context line or None)."""
    if file_class(path) not in ("c", "asm-offsets"):
        return []
    out: list[tuple[str, HunkLine | None]] = []
    m = RE_SECTION_DEF.match(hunk.section or "")
    if m and m.group(1) not in C_KEYWORDS and not m.group(1).isupper():
        out.append((m.group(1), None))
    for ln in hunk.lines:
        if ln.kind is not LineKind.CONTEXT:
            continue
        d = RE_SECTION_DEF.match(ln.text)
        if d and d.group(1) not in C_KEYWORDS and not d.group(1).isupper() and not ln.text.rstrip().endswith(";"):
            out.append((d.group(1), ln))
    return list({n: (n, ln) for n, ln in reversed(out)}.values())[::-1]


# static int __init foo_probe(struct platform_device *pdev)   /   void bar(void)   (a definition head
# in column 0: a return type, then the name and its parameter list)
RE_SECTION_DEF = re.compile(
    r"^(?:(?:static|extern|inline|__always_inline|noinline|notrace|asmlinkage|const|unsigned|signed|struct|union|enum"
    r"|__init|__exit|__ref|__cold|__weak|__maybe_unused|__noreturn|__visible|__sched|__kprobes)\s+)*"
    r"[A-Za-z_]\w*(?:\s+|\s*\*+\s*)(?:__\w+\s+)*\**([a-z_][A-Za-z0-9_]*)\s*\([^;]*$")
