// SPDX-License-Identifier: GPL-2.0-or-later
/* (miniature of kernel/module.c) */
#include <linux/ftrace.h>

static int find_module_sections(struct module *mod, struct load_info *info)
{
#ifdef CONFIG_FTRACE_MCOUNT_RECORD
	/* sechdrs[0].sh_size is always zero */
	mod->ftrace_callsites = section_objs(info, FTRACE_CALLSITE_SECTION,
					     sizeof(*mod->ftrace_callsites),
					     &mod->num_ftrace_callsites);
#endif
	return 0;
}
