"""``python -m backport``: same as the ``backport`` console script."""

from .cli import main

raise SystemExit(main())
