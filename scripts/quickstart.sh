#!/usr/bin/env bash
# Install ragseal, ingest the bundled sample corpus into the embedded store,
# and serve the API on 127.0.0.1:8000 (another port: RAGSEAL_PORT=8080 or
# `scripts/quickstart.sh 8080`). Safe to run again: files already ingested
# unchanged are recognised and nothing is written for them.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-${RAGSEAL_PORT:-8000}}"
host=127.0.0.1
if ! [[ "$port" =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then
  echo "quickstart: port must be a number 1..65535 (got '$port')" >&2
  exit 2
fi
# A busy port is found now, not after minutes of install and ingest.
if ! python3 - "$host" "$port" <<'PY'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((sys.argv[1], int(sys.argv[2])))
    except OSError:
        sys.exit(1)
PY
then
  echo "quickstart: port $port on $host is already in use; run RAGSEAL_PORT=8080 $0 (or $0 8080)" >&2
  exit 2
fi
scripts/install.sh
export RAGSEAL_DATA_DIR="${RAGSEAL_DATA_DIR:-$PWD/.ragseal}"
mkdir -p "$RAGSEAL_DATA_DIR" && chmod 700 "$RAGSEAL_DATA_DIR"
if [[ -z "${RAGSEAL_JWT_SECRET:-}" && -z "${RAGSEAL_JWT_JWKS:-}" ]]; then
  secret_file="$RAGSEAL_DATA_DIR/dev-jwt-secret"
  if [[ ! -s "$secret_file" ]]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$secret_file")
  fi
  RAGSEAL_JWT_SECRET="$(cat "$secret_file")"
  export RAGSEAL_JWT_SECRET
  echo "dev JWT secret: $secret_file (set RAGSEAL_JWT_SECRET or RAGSEAL_JWT_JWKS in production)"
fi
rs=.venv/bin/ragseal
# Exit status 1 only means some file was refused; the report lists which.
"$rs" ingest samples/corpus --manifest samples/corpus/acl.yaml || [[ $? -eq 1 ]]
"$rs" ingest samples/other-tenant --manifest samples/other-tenant/acl.yaml || [[ $? -eq 1 ]]

"$rs" serve --host "$host" --port "$port" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM
echo "starting the server (loading the models)..."
# The server answers /healthz once every model is loaded; say "go" only then.
until .venv/bin/python -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)' "http://$host:$port/healthz" 2>/dev/null; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server" || exit $?
    exit 1
  fi
  sleep 1
done
cat <<MSG

ragseal is serving on http://$host:$port  (Ctrl-C to stop)
In another shell, from $(pwd), ask the same question as an HR partner and
as an employee: HR sees the new-hire form in clear, the employee only the
all-hands note, with the name masked.

  export RAGSEAL_JWT_SECRET=\$(cat "$RAGSEAL_DATA_DIR/dev-jwt-secret")
  HR=\$(.venv/bin/ragseal token --sub maria@acme.example --tenant acme --groups hr,all-staff --roles hr)
  EMP=\$(.venv/bin/ragseal token --sub sam@acme.example --tenant acme --groups all-staff --roles employee)
  for t in "\$HR" "\$EMP"; do
    curl -s http://$host:$port/v1/retrieve -H "Authorization: Bearer \$t" \\
         -H 'content-type: application/json' -d '{"query": "When does Jonas Weber start?", "top_k": 2}'
    echo
  done

MSG
wait "$server"
