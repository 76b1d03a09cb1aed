/*
 * (miniature of the v4.9 arch/powerpc/include/asm/types.h)
 *
 * This program is free software; you can redistribute it and/or
 * modify it under the terms of the GNU General Public License
 * as published by the Free Software Foundation; either version
 * 2 of the License, or (at your option) any later version.
 */
#ifndef _ASM_POWERPC_TYPES_H
#define _ASM_POWERPC_TYPES_H

#include <uapi/asm/types.h>

#ifndef __ASSEMBLY__
#ifdef __powerpc64__
# if defined(_CALL_ELF) && _CALL_ELF == 2
#  define PPC64_ELF_ABI_v2
# else
#  define PPC64_ELF_ABI_v1	/* function pointers point to descriptors in .opd */
# endif
#endif

typedef __vector128 vector128;

#endif /* __ASSEMBLY__ */

#endif /* _ASM_POWERPC_TYPES_H */
