// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * This file contains the table of syscall-handling functions.
 * (miniature of arch/powerpc/kernel/systbl.c)
 */

#include <linux/syscalls.h>
#include <linux/compat.h>
#include <asm/unistd.h>
#include <asm/syscalls.h>

#define __SYSCALL(nr, entry) [nr] = (void *) entry,

const syscall_fn sys_call_table[] = {
#ifdef CONFIG_PPC64
#include <asm/syscall_table_64.h>
#else
#include <asm/syscall_table_32.h>
#endif
};
