/* SPDX-License-Identifier: GPL-2.0 */
/* (miniature of arch/powerpc/include/asm/ftrace.h) */
#ifndef _ASM_POWERPC_FTRACE
#define _ASM_POWERPC_FTRACE

#include <asm/types.h>

#ifdef CONFIG_FUNCTION_TRACER
#define MCOUNT_ADDR		((unsigned long)(_mcount))
#define MCOUNT_INSN_SIZE	4 /* sizeof mcount call */
#endif

#ifdef CONFIG_FTRACE_SYSCALLS
/*
 * Syscall entry points on powerpc may carry a ppc_ prefix: match the
 * sys_ name of the event against those too.
 */
#define ARCH_HAS_SYSCALL_MATCH_SYM_NAME
#ifdef PPC64_ELF_ABI_v1
static inline bool arch_syscall_match_sym_name(const char *sym, const char *name)
{
	/* skip the leading dot of the text symbol */
	return !strcmp(sym + 1, name) ||
		(!strncmp(sym, ".ppc_", 5) && !strcmp(sym + 5, name + 4));
}
#else
static inline bool arch_syscall_match_sym_name(const char *sym, const char *name)
{
	return !strcmp(sym, name) ||
		(!strncmp(sym, "ppc_", 4) && !strcmp(sym + 4, name + 4));
}
#endif /* PPC64_ELF_ABI_v1 */
#endif /* CONFIG_FTRACE_SYSCALLS */

#endif /* _ASM_POWERPC_FTRACE */
