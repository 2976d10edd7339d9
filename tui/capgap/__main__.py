"""Allow ``python -m tui``."""

from capgap.cli.main import main

raise SystemExit(main())
