#!/bin/sh
# Export each mounted secret /run/secrets/RAGSEAL_* as the variable of that
# name, then run the command: secrets stay files on the host and in the
# compose file, and ragseal reads its settings from RAGSEAL_* as always.
set -eu
for f in /run/secrets/RAGSEAL_*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    value=$(cat "$f")
    export "$name=$value"
done
umask 077
exec "$@"
