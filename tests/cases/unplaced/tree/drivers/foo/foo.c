int foo_init(void)
{
	return 0;
}
