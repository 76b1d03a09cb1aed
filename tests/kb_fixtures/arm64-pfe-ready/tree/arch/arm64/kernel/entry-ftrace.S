/* SPDX-License-Identifier: GPL-2.0-only */
/* (miniature of arch/arm64/kernel/entry-ftrace.S) */
#include <linux/linkage.h>
#include <asm/asm-offsets.h>
#include <asm/assembler.h>
#include <asm/ftrace.h>
#include <asm/insn.h>

#ifdef CONFIG_DYNAMIC_FTRACE_WITH_REGS
/*
 * Due to -fpatchable-function-entry=2 an enabled call site is
 * "mov x9, lr; bl <entry>": x9 holds the function's return address.
 */
ENTRY(ftrace_common)
	mov	x1, x9				// parent_ip (callsite's LR)
	ret
ENDPROC(ftrace_common)
#else /* CONFIG_DYNAMIC_FTRACE_WITH_REGS */

	.macro mcount_enter
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	.endm

	.macro mcount_get_lr reg
	ldr	\reg, [x29]
	ldr	\reg, [\reg, #8]
	.endm

ENTRY(ftrace_caller)
	mcount_enter
	mcount_get_lr	x1		//     function's lr
	ret
ENDPROC(ftrace_caller)
#endif /* CONFIG_DYNAMIC_FTRACE_WITH_REGS */
