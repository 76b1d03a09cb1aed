/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * This file contains the table of syscall-handling functions.
 * (miniature of arch/powerpc/kernel/systbl.S)
 */

#include <asm/ppc_asm.h>

#ifdef CONFIG_PPC64
	.p2align	3
#define __SYSCALL(nr, entry)	.8byte DOTSYM(entry)
#else
	.p2align	2
#define __SYSCALL(nr, entry)	.long entry
#endif

.globl sys_call_table
sys_call_table:
#ifdef CONFIG_PPC64
#include <asm/syscall_table_64.h>
#else
#include <asm/syscall_table_32.h>
#endif
