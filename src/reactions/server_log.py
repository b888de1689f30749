"""The server's own log lines, for whoever runs it: the `reactions` loggers at INFO on stderr,
one line each with time and source (Streamlit configures only its own loggers, so without
this only warnings would show, bare). E.g. when the writer's known-readers filter is loaded
after a start — until then taps are slower (store.known_readers)."""

from __future__ import annotations

import logging
import sys


def log_to_stderr() -> None:
    logger = logging.getLogger("reactions")
    if logger.handlers:  # configured already (one server process runs app.py once)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
