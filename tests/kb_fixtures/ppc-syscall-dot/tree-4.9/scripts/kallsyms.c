/* Generate assembler source containing symbol information
 * (miniature of the 4.9 scripts/kallsyms.c)
 */

struct addr_range {
	const char *start_sym, *end_sym;
	unsigned long long start, end;
};

static struct addr_range text_ranges[] = {
	{ "_stext",     "_etext"     },
	{ "_sinittext", "_einittext" },
};
#define text_range_text     (&text_ranges[0])
#define text_range_inittext (&text_ranges[1])

static int all_symbols;

static bool symbol_valid(const struct sym_entry *s)
{
	/* if --all-symbols is not specified, then symbols outside the text
	 * and inittext sections are discarded */
	if (!all_symbols) {
		if (symbol_in_range(s, text_ranges,
				    ARRAY_SIZE(text_ranges)) == 0)
			return false;
	}
	return true;
}
