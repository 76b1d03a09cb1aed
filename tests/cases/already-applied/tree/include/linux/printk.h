#ifndef _LINUX_PRINTK_H
#define _LINUX_PRINTK_H

#define pr_err(fmt, ...) printk(KERN_ERR fmt, ##__VA_ARGS__)

#endif
