"""Allow ``python -m capgap``."""

from capgap.cli.main import console_main

raise SystemExit(console_main())
