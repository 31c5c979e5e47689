"""``ragseal serve`` and ``token``: the HTTP API and development tokens."""

from __future__ import annotations

import click

from ._common import load_settings, split_list
from ._errors import fail

__all__ = ["serve", "token"]


# -- token ------------------------------------------------------------------
@click.command()
@click.option("--sub", required=True, help="Subject (user id).")
@click.option("--groups", default="", help="Comma-separated groups.")
@click.option("--roles", default="", help="Comma-separated roles.")
@click.option("--tenant", help="Tenant claim (absent means 'default').")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1, 7 * 86400),
              help="Lifetime in seconds.")
def token(sub: str, groups: str, roles: str, tenant: str | None, ttl: int) -> None:
    """Mint a development token signed with RAGSEAL_JWT_SECRET (HS256).

    \b
    Example:
      export RAGSEAL_JWT_SECRET=$(python -c 'import secrets;print(secrets.token_urlsafe(48))')
      TOKEN=$(ragseal token --sub maria@acme.example --groups hr,all-staff --roles hr --tenant acme)
      curl -H "Authorization: Bearer $TOKEN" -d '{"query":"payroll"}' \\
           -H 'content-type: application/json' http://127.0.0.1:8000/v1/retrieve
    """
    from .._auth import mint_token

    settings = load_settings()
    if settings.jwt_secret is None:
        fail("set RAGSEAL_JWT_SECRET (at least 32 bytes) to mint HS256 tokens")
    if ttl > settings.max_token_ttl:
        fail(f"--ttl {ttl} is longer than RAGSEAL_MAX_TOKEN_TTL ({settings.max_token_ttl} "
              "seconds): the server would refuse the token")
    try:
        minted = mint_token(
            settings.jwt_secret, sub=sub, tenant=tenant, groups=split_list(groups),
            roles=split_list(roles), ttl=ttl, audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    except ValueError as exc:  # claims off-shape; the message names no value
        fail(str(exc))
    click.echo(f"ragseal: token for {sub} in tenant {tenant or 'default'}"
               f"{'' if tenant else ' (no --tenant given)'}, valid {ttl}s", err=True)
    click.echo(minted)


# -- serve ------------------------------------------------------------------
@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves every interface (put TLS in front).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port; a busy port stops serve at once (exit 2).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Processes that run retrieve and inspect [default: RAGSEAL_WORKERS, "
                   "else one per core]; 1 runs everything in the server process.")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the HTTP API. Refuses to start without JWT configuration.

    Set RAGSEAL_JWT_SECRET (HS256) or RAGSEAL_JWT_JWKS (RS256/ES256); there
    is no anonymous mode. Prints one line on stderr once it answers
    (address, store, tenants, policy fingerprint); GET /healthz is 200 then.

    \b
    Example:
      RAGSEAL_JWT_SECRET=$(cat .ragseal/dev-jwt-secret) ragseal serve --port 8000
    """
    import uvicorn

    from .._app import create_app
    from .._auth import TokenVerifier
    from .._container import Services
    from .._cores import start_serving
    from .._policies import base_policy
    from ._announce import AnnouncingServer
    from ._checks import check_port_free

    settings = load_settings()
    # Build the verifier now: a missing or unusable JWKS stops here, with one
    # line (ConfigError), instead of inside the server's startup after a traceback.
    TokenVerifier(settings)
    check_port_free(host, port)  # before the models load: a busy port in one line
    base_policy(settings.policy)  # PolicyError: one line, exit 2, before any model
    from .._beside import embedded_store_in_use

    if embedded_store_in_use(settings):  # the server must own it: before any model
        fail(f"the store in {settings.data_dir} is in use by another ragseal process "
              "(a server already serves it, or a command runs alone); stop it first")
    # Built here, not in the server's lifespan: a locked store, a master key that
    # does not open the keyring, a damaged keyring or audit trail stop the start
    # with one line and exit 2 (see main) instead of uvicorn's traceback.
    services = Services(settings)
    serving = None
    try:
        # The owner socket, the store, then the models and the workers (api/_cores.py).
        serving = start_serving(services, workers or settings.workers)
        app = create_app(settings, services)
        app.state.cores = serving.pool  # None: retrieve and inspect run in this process
        # log_config=None: uvicorn keeps its hands off logging; its loggers propagate to
        # the JSON handler the cli group configured (-v shows access lines: no bodies).
        config = uvicorn.Config(app, host=host, port=port, log_config=None,
                                server_header=False)
        server = AnnouncingServer(config, app, host, port)  # one line once it serves
        try:
            server.run()
        except SystemExit as exc:  # uvicorn's STARTUP_FAILURE (3): not one of our codes
            if exc.code in (0, None):
                raise
            fail(f"could not start serving on {host}:{port} (run with -v for the reason)")
    finally:
        if serving is not None:
            serving.close()
        services.close()
