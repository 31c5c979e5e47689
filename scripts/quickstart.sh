#!/usr/bin/env bash
# Install ragseal, ingest the bundled sample corpus into the embedded store,
# and serve the API on 127.0.0.1:8000. Safe to run again: re-ingesting
# unchanged files replaces their chunks in place.
set -euo pipefail
cd "$(dirname "$0")/.."
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
cat <<MSG

ragseal is serving on http://127.0.0.1:8000  (Ctrl-C to stop)
In another shell, from $(pwd):

  export RAGSEAL_JWT_SECRET=\$(cat "$RAGSEAL_DATA_DIR/dev-jwt-secret")
  TOKEN=\$(.venv/bin/ragseal token --sub maria@acme.example --tenant acme --groups hr,all-staff --roles hr)
  curl -s http://127.0.0.1:8000/v1/retrieve -H "Authorization: Bearer \$TOKEN" \\
       -H 'content-type: application/json' -d '{"query": "What is the payroll schedule?", "top_k": 3}'

MSG
exec "$rs" serve --host 127.0.0.1 --port 8000
