#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H
/*
 * Dynamic loading of modules into the kernel.
 * (miniature of include/linux/module.h for the backport example)
 */
#include <linux/init.h>
#include <linux/types.h>

struct module {
	const char *name;
	struct kernel_param *kp;
	unsigned int num_kp;
	const struct kernel_symbol *syms;
	const unsigned long *crcs;
	unsigned int num_syms;
	unsigned int num_exentries;
	struct exception_table_entry *extable;
#ifdef CONFIG_TRACEPOINTS
	unsigned int num_tracepoints;
	struct tracepoint * const *tracepoints_ptrs;
#endif
#ifdef CONFIG_FTRACE_MCOUNT_RECORD
	unsigned int num_ftrace_callsites;
	unsigned long *ftrace_callsites;
#endif
};

#endif /* _LINUX_MODULE_H */
