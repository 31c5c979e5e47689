"""``ragseal ingest --engine``: the options, checked before anything loads.

``engine_options`` adds the options to a click command and hands it one
``engine`` argument (:class:`ragseal.ingest.EngineConfig`, or
``None`` without ``--engine``). Usage errors (an engine whose extra is not
installed, a plaintext or malformed address, missing TLS files) and an
engine that fails mid-run are one line on stderr, exit 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["engine_options"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option("--engine", "engine_name", type=click.Choice(["dask"]),
                 help="Run parsing, classification, embedding and sealing on a cluster's "
                      "workers (needs the 'dask' extra); writes stay in this process. "
                      "Default: a local cluster of --workers processes."),
    click.option("--engine-address", metavar="tls://HOST:PORT",
                 help="The engine's scheduler (a real cluster) instead of a local one."),
    click.option("--engine-tls-ca", type=click.Path(path_type=Path, dir_okay=False),
                 help="CA certificate of the cluster (mutual TLS)."),
    click.option("--engine-tls-cert", type=click.Path(path_type=Path, dir_okay=False),
                 help="This client's certificate, signed by that CA."),
    click.option("--engine-tls-key", type=click.Path(path_type=Path, dir_okay=False),
                 help="This client's private key."),
    click.option("--engine-allow-plaintext", is_flag=True,
                 help="Allow a tcp:// address: documents, data keys and secrets cross the "
                      "network in clear. Only on a network you trust."),
)


def engine_options(command: F) -> F:
    """Add the ``--engine`` options to ``command``; it receives ``engine``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ragseal.ingest import EngineConfig, EngineError, check_engine

        from ._errors import fail as _fail

        name = kwargs.pop("engine_name")
        address = kwargs.pop("engine_address")
        tls = (kwargs.pop("engine_tls_ca"), kwargs.pop("engine_tls_cert"),
               kwargs.pop("engine_tls_key"))
        plaintext = kwargs.pop("engine_allow_plaintext")
        config = None
        if name is None:
            if address is not None or any(tls) or plaintext:
                _fail("--engine-address, --engine-tls-* and --engine-allow-plaintext "
                      "need --engine")
        else:
            config = EngineConfig(name=name, address=address, tls_ca=tls[0], tls_cert=tls[1],
                                  tls_key=tls[2], allow_plaintext=plaintext)
        try:
            if config is not None:
                check_engine(config)  # before any model, store or keyring
            return command(*args, engine=config, **kwargs)
        except EngineError as exc:
            _fail(str(exc))

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]
