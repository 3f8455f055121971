"""Starts bqemulator (a BigQuery emulator) without its spatial extension.

bqemulator 1.4.0 loads DuckDB's spatial extension at start, which DuckDB
downloads on first use; offline that fails and the emulator exits. propcast
uses no GEOGRAPHY functions, so the load is skipped, then the emulator's own
command line runs with the arguments given, e.g.

    python scripts/bqemulator.py start --rest-port 9050 --grpc-port 0 --project propcast-test

scripts/emulators.sh runs it from the virtualenv it installs the emulator in.
"""

import os
import sys

# This file is itself named bqemulator.py and Python puts its directory first
# on the import path, where it would shadow the bqemulator package.
here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != here]

from bqemulator.storage import engine  # noqa: E402

engine.DuckDBEngine._load_spatial = lambda self: None

from bqemulator.cli import main  # noqa: E402  (after the patch above)

sys.exit(main())
