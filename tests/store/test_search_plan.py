"""The approximate search plan's walk width (store/_edge.py module constants).

The figures behind the constants are in benchmarks/README.md ("A million
chunks", fifth round); tests/store/test_scale.py (slow) holds the recall.
"""

from __future__ import annotations

import ragseal.store._client as client_module
import ragseal.store._edge as edge_module


def test_when_the_filter_is_wide_then_the_walk_is_wider_than_for_a_narrow_one() -> None:
    narrow, wide = edge_module.WIDE_SHARE / 2, edge_module.WIDE_SHARE
    assert edge_module.HNSW_EF > edge_module.HNSW_EF_NARROW
    assert edge_module.approximate_params(10, narrow).hnsw_ef == edge_module.HNSW_EF_NARROW
    assert edge_module.approximate_params(10, wide).hnsw_ef == edge_module.HNSW_EF
    assert edge_module.approximate_params(10).hnsw_ef == edge_module.HNSW_EF  # unknown: wide


def test_when_the_limit_is_large_then_the_walk_is_never_under_four_times_it() -> None:
    for share in (0.01, edge_module.WIDE_SHARE, 1.0):
        assert edge_module.approximate_params(100, share).hnsw_ef == 400
        assert edge_module.approximate_params(1, share).hnsw_ef >= edge_module.HNSW_EF_NARROW


def test_when_a_server_store_searches_then_its_plan_is_the_embedded_one() -> None:
    for limit in (1, 10, 100):
        for share in (0.0, edge_module.WIDE_SHARE / 2, edge_module.WIDE_SHARE, 1.0):
            server = client_module.approximate_params(limit, share)
            embedded = edge_module.approximate_params(limit, share)
            assert server.hnsw_ef == embedded.hnsw_ef
            assert server.acorn is not None and embedded.acorn is not None
            assert server.acorn.enable and embedded.acorn.enable
