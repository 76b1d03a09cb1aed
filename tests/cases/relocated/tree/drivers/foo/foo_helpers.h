#ifndef FOO_HELPERS_H
#define FOO_HELPERS_H

static inline int foo_check(struct foo *f)
{
	if (!f)
		return -EINVAL;
	return 0;
}

#endif
