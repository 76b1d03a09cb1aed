#include <linux/kernel.h>
#include <linux/slab.h>

static int foo_count;

static int foo_init(struct foo *f)
{
	int ret;

	f->buf = kmalloc(64, GFP_KERNEL);
	if (f->buf == NULL)
		return -ENOMEM;
	ret = foo_setup(f);
	if (ret)
		goto err;
	foo_count++;
	return 0;
err:
	kfree(f->buf);
	return ret;
}

static void foo_exit(struct foo *f)
{
	kfree(f->buf);
	foo_count--;
}
