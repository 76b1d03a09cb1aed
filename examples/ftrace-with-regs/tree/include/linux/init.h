#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H
/*
 * (miniature of include/linux/init.h for the backport example)
 *
 * Until v4.16 __init code was notrace: ftrace never recorded a call site in
 * .init.text, so nothing had to forget one when the init text is freed.
 */
#include <linux/compiler.h>
#include <linux/types.h>

#define __init		__section(.init.text) __cold notrace __latent_entropy
#define __initdata	__section(.init.data)
#define __initconst	__section(.init.rodata)
#define __exitdata	__section(.exit.data)

extern void free_initmem(void);

#endif /* _LINUX_INIT_H */
