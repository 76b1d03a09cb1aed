/* (miniature of include/asm-generic/vmlinux.lds.h) */
#ifdef CONFIG_FTRACE_MCOUNT_RECORD
#ifdef CC_USING_PATCHABLE_FUNCTION_ENTRY
#define MCOUNT_REC()	. = ALIGN(8);				\
			__start_mcount_loc = .;			\
			KEEP(*(__patchable_function_entries))	\
			__stop_mcount_loc = .;
#else
#define MCOUNT_REC()	. = ALIGN(8);				\
			__start_mcount_loc = .;			\
			KEEP(*(__mcount_loc))			\
			__stop_mcount_loc = .;
#endif
#else
#define MCOUNT_REC()
#endif
