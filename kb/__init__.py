"""kb: the kernel knowledge base, as data (rules/*.yaml) plus its schema."""
