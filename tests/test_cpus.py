"""Every default that counts cores asks ``ragseal._cpus.usable_cpus``: the CPUs
this process may use (affinity, cgroup quota), never the host's count."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from ragseal._cpus import host_cpus, usable_cpus

_PROBE = """
import os, sys
if sys.argv[1] == "pin":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from ragseal._cpus import usable_cpus
from ragseal.api._cores import available_cores
from ragseal.ingest._embedder import default_threads
print(usable_cpus(), available_cores(), default_threads())
"""


def _probe(how: str, **env: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, how], capture_output=True,  # noqa: S603
                          text=True, check=True, timeout=300, env={**os.environ, **env})
    return done.stdout.split()


def test_when_nothing_narrows_the_process_then_it_may_use_what_its_affinity_allows() -> None:
    assert 1 <= usable_cpus() <= host_cpus()
    if hasattr(os, "sched_getaffinity"):
        assert usable_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2
                    or host_cpus() < 2, reason="needs CPU affinity and two CPUs")
def test_when_the_process_is_pinned_to_one_cpu_then_pool_and_onnx_size_to_one() -> None:
    assert _probe("pin") == ["1", "1", "1"]


@pytest.mark.skipif(host_cpus() < 2, reason="needs two CPUs")
def test_when_a_cpu_limit_is_set_below_the_host_then_pool_and_onnx_size_to_it() -> None:
    # joblib reads cgroup quotas the same way it reads this cap (a container's
    # ``--cpus 1`` cannot be set up by a test without privileges).
    assert _probe("none", LOKY_MAX_CPU_COUNT="1") == ["1", "1", "1"]
