// SPDX-License-Identifier: GPL-2.0
/*
 * Widget core (a miniature for backport's deps fixtures).
 */
#include <linux/widget.h>

static int widget_count;

void widget_lock(struct widget *w)
{
	w->flags |= 1;
}

void widget_unlock(struct widget *w)
{
	w->flags &= ~1UL;
}

static void widget_reset(struct widget *w)
{
	widget_lock(w);
	w->id = 0;
	widget_unlock(w);
}

int widget_probe(struct widget *w)
{
	widget_reset(w);
	widget_count++;
#ifdef CONFIG_WIDGET_STATS
	w->flags |= 2;
#endif
#ifdef CONFIG_WIDGET_LEGACY_IRQ
	w->flags |= 4;
#endif
	return 0;
}
