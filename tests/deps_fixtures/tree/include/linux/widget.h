/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_WIDGET_H
#define _LINUX_WIDGET_H

#include <linux/types.h>

#define WIDGET_NAME_LEN	16

struct widget {
	int id;
	unsigned long flags;
	char name[WIDGET_NAME_LEN];
};

int widget_probe(struct widget *w);
void widget_lock(struct widget *w);
void widget_unlock(struct widget *w);

#endif /* _LINUX_WIDGET_H */
