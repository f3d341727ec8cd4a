"""Run the sandbox for the benchmark (`python -m bench.sandbox ARGS`), with Nagle off.

The sandbox writes headers and body in two sends; with Nagle's algorithm on, the body
waits for the client's delayed ACK (about 40 ms on Linux), which would be counted as the
dashboard's overhead. Real Capillary (behind nginx) does not do this, so the benchmark
turns Nagle off for the sandbox's sockets.
"""

from __future__ import annotations

import sys

from lookup.sandbox.handler import SandboxHandler
from lookup.sandbox.server import main

if __name__ == "__main__":
    SandboxHandler.disable_nagle_algorithm = True
    sys.exit(main(sys.argv[1:]))
