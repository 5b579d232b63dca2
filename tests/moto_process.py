"""moto's S3/SQS server in a process of its own (`python tests/moto_process.py PORT`), with its
PutObject made atomic (conftest `_atomic_moto_puts`).

Not in the test process: delta-rs (the output tables) holds the GIL in some of its blocking calls
(opening a table, DataFusion scans), and a threaded moto in the same interpreter then cannot answer
them: the request times out after minutes ("error sending request")."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(port: int) -> None:
    from conftest import _atomic_moto_puts
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    _atomic_moto_puts()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
