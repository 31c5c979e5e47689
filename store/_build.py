"""Child process of the background index build (store/_edge.py, ``_Builder``).

``python -m ragseal.store._build SHARD_DIR DIM [PARENT_PID]`` loads a copy of an Edge
shard with ragseal's configuration, builds its HNSW graph (``optimize``),
flushes and exits 0; any failure exits 1 with one line on stderr. It runs
at lower CPU priority than the serving process, never touches the live
shard, and dies with its parent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _die_with_parent(parent: int) -> bool:
    """Ask Linux to SIGKILL this process when its parent (thread) ends.

    A server killed with SIGKILL cannot stop its builder; the builder must
    not go on writing into a copy the next server removes or reuses.
    """
    if sys.platform == "linux":
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    return os.getppid() == parent  # the parent may have died before prctl


def main(argv: list[str]) -> int:
    # PARENT_PID is optional: a server started before an upgrade spawns the
    # upgraded module with the older command line (docs/TRAPS.md).
    if len(argv) not in (2, 3) or not all(a.isdigit() for a in argv[1:]):
        sys.stderr.write("usage: python -m ragseal.store._build SHARD_DIR DIM [PARENT_PID]\n")
        return 2
    if not _die_with_parent(int(argv[2]) if len(argv) == 3 else os.getppid()):
        return 1
    from ragseal.store._edge import INDEX_NICE, edge_config

    os.nice(INDEX_NICE)
    from qdrant_edge import EdgeShard

    try:
        shard = EdgeShard.load(str(Path(argv[0])), edge_config(int(argv[1])))
        shard.optimize()
        shard.flush()
        shard.close()
    except Exception as exc:  # the engine's message names paths and sizes, never payloads
        sys.stderr.write(f"index build failed: {str(exc)[:200]}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
