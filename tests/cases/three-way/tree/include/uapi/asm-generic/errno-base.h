#ifndef _ASM_GENERIC_ERRNO_BASE_H
#define _ASM_GENERIC_ERRNO_BASE_H

#define	ENOMEM		12
#define	EAGAIN		11
#define	EINVAL		22

#endif
