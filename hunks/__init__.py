"""hunks: the placement engine. Works on lists of lines; knows no git, files, CLI or kernel."""
