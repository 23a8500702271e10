#!/bin/sh
# One-shot init container of docker-compose.yml (`secrets`, busybox image, as root):
# makes the stack's secrets on first start, so a fresh clone needs no manual step.
#
#   $KLAXON_SECRETS_DIR (the `klaxon-secrets` volume, default /run/klaxon-secrets):
#     rabbitmq-password, postgres-password     root 0600: read by the images' entrypoints
#     grafana-admin-password                   uid 472 (grafana) 0600
#     secret-key, amqp-uri, database-url       uid 10001 (klaxon) 0600: KLAXON_*_FILE
#   $KLAXON_TOOLS_DIR (the `probe-tools` volume, default /opt/probe): a copy of this
#     image's static busybox, whose wget probes the images that ship no HTTP client.
#
# A password given in the environment (compose passes .env's values) overrides the
# file; otherwise a file is written once, with a random value, and kept. Idempotent:
# runs on every `docker compose up`, and exits 0.
set -eu

dir="${KLAXON_SECRETS_DIR:-/run/klaxon-secrets}"
tools="${KLAXON_TOOLS_DIR:-/opt/probe}"
umask 077
mkdir -p "$dir" "$tools"
chmod 0755 "$dir"  # each file keeps its own 0600 and owner

# 32 random bytes as 64 hex characters: URL-safe, as they end up inside amqp:// and postgresql:// URLs.
random_hex() { head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# write NAME OWNER VALUE: replace NAME atomically with VALUE, owned by OWNER, mode 0600.
write() {
  printf '%s' "$3" >"$dir/.$1.new"
  chown "$2" "$dir/.$1.new"
  chmod 0600 "$dir/.$1.new"
  mv -f "$dir/.$1.new" "$dir/$1"
}

# secret NAME OWNER OVERRIDE: OVERRIDE when set, else the existing file, else a new random value.
secret() {
  if [ -n "$3" ]; then
    write "$1" "$2" "$3"
    echo "$1: from the environment (.env)"
  elif [ ! -s "$dir/$1" ]; then
    write "$1" "$2" "$(random_hex)"
    echo "$1: generated"
  else
    chown "$2" "$dir/$1" && chmod 0600 "$dir/$1"
    echo "$1: kept"
  fi
}

secret rabbitmq-password 0:0 "${RABBITMQ_PASSWORD:-}"
secret postgres-password 0:0 "${POSTGRES_PASSWORD:-}"
secret grafana-admin-password 472:0 "${GRAFANA_ADMIN_PASSWORD:-}"
secret secret-key 10001:10001 "${KLAXON_SECRET_KEY:-}"

# The Klaxon processes read whole URLs (KLAXON_AMQP_URI_FILE, KLAXON_DATABASE_URL_FILE),
# rebuilt on every start from the passwords above.
write amqp-uri 10001:10001 "amqp://klaxon:$(cat "$dir/rabbitmq-password")@rabbitmq:5672/"
write database-url 10001:10001 "postgresql://klaxon:$(cat "$dir/postgres-password")@postgres:5432/klaxon"

cp -f /bin/busybox "$tools/busybox.new"
chmod 0755 "$tools" "$tools/busybox.new"
mv -f "$tools/busybox.new" "$tools/busybox"
echo "secrets ready in $dir"
