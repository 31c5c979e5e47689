"""How many CPUs this process may use, for every default that counts cores.

``os.cpu_count()`` is the host's count. A process pinned by ``taskset`` or a
cpuset may run on fewer, and a container with a CPU limit (a cgroup quota:
Kubernetes ``resources.limits.cpu``, ``docker run --cpus``) gets fewer CPUs'
worth of time while it still sees every core: sizing workers or ONNX threads
by the host's count there oversubscribes the quota and the kernel throttles
the whole process. joblib (loky) reads the affinity, the cgroup v1 and v2
quotas and ``LOKY_MAX_CPU_COUNT``; this is the one place that asks it.
"""

from __future__ import annotations

import os

__all__ = ["host_cpus", "usable_cpus"]


def usable_cpus() -> int:
    """CPUs this process may use: its affinity, capped by its cgroup CPU quota
    (rounded up), at least 1."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def host_cpus() -> int:
    """CPUs of the host, whatever this process may use."""
    return max(1, os.cpu_count() or 1)
