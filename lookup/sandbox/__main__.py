"""Run the Capillary sandbox: ``python -m lookup.sandbox --port 8001``."""

from __future__ import annotations

import sys

from .server import main

sys.exit(main())
