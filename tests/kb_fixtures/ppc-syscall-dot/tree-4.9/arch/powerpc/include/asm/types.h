/* SPDX-License-Identifier: GPL-2.0-or-later */
/* (miniature of arch/powerpc/include/asm/types.h) */
#ifndef _ASM_POWERPC_TYPES_H
#define _ASM_POWERPC_TYPES_H

#include <uapi/asm/types.h>

#ifdef __powerpc64__
#if defined(_CALL_ELF) && _CALL_ELF == 2
#define PPC64_ELF_ABI_v2
#else
#define PPC64_ELF_ABI_v1
#endif
#endif

#endif /* _ASM_POWERPC_TYPES_H */
