"""Allow ``python -m capgap``."""

from capgap.cli.main import main

raise SystemExit(main())
