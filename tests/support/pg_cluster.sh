#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for one test program (a CTest fixture runs start before its tests
# and stop after them, also when a test crashed).
#
#   pg_cluster.sh start DIR [--tls]   fresh cluster in DIR: Unix socket in DIR only, role `schakel`
#   pg_cluster.sh stop DIR            stop it (immediately) and remove DIR
#
# The server refuses to run as root: as root, DIR belongs to the `postgres` user and the server runs
# as that user (runuser); as anyone else it runs as the caller. Connections over the socket are
# trusted, except for members of the role `schakel_password_login`, which must give their password
# (SCRAM): the tests that prove a password is actually sent log in as such a member.
#
# --tls also listens on 127.0.0.1 at a free port (written to DIR/port), TLS only, with a throw-away
# CA made here: DIR/tls/ca.crt signs the server's certificate (CN and SAN 127.0.0.1 and localhost);
# DIR/tls/other-ca.crt is a second CA that signs nothing, for the test that must be refused.
# Nothing listens on a network address without --tls.
set -euo pipefail

bin=${SCHAKEL_PG_BIN:-/usr/lib/postgresql/15/bin}
action=${1:-}
dir=${2:-}
tls=no
[ "${3:-}" = "--tls" ] && tls=yes
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR [--tls]" >&2
  exit 2
fi
case "$dir" in
  /*) ;;
  *) echo "pg_cluster.sh: DIR must be an absolute path" >&2; exit 2 ;;
esac

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_cluster() {
  # A server left by a crashed or killed earlier run is stopped too: its postmaster.pid says so.
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$action" in
  stop)
    stop_cluster
    exit 0
    ;;
  start) ;;
  *)
    echo "pg_cluster.sh: unknown action $action (start|stop)" >&2
    exit 2
    ;;
esac

started=$(date +%s%N)
stop_cluster
mkdir -p "$dir"
chmod 700 "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"

# --no-sync: a throw-away cluster does not need initdb's fsyncs (they are most of its time).
as_owner "$bin/initdb" -D "$dir/data" -A trust -U schakel --no-sync -E UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

{
  echo "local all +schakel_password_login scram-sha-256"
  echo "local all all trust"
  if [ "$tls" = yes ]; then
    echo "hostssl all all 127.0.0.1/32 trust"
  fi
} >"$dir/data/pg_hba.conf"

{
  echo "unix_socket_directories = '$dir'"
  echo "fsync = off"
  echo "synchronous_commit = off"
  echo "full_page_writes = off"
  echo "max_connections = 60"
  echo "shared_buffers = 16MB"
  echo "password_encryption = 'scram-sha-256'"
} >>"$dir/data/postgresql.conf"

if [ "$tls" = yes ]; then
  tls_dir="$dir/tls"
  mkdir -p "$tls_dir"
  (
    cd "$tls_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=schakel test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt -days 2 \
      -subj "/CN=another test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
      -extfile server.ext 2>/dev/null
    chmod 600 server.key ca.key other-ca.key
  )
  [ "$(id -u)" = 0 ] && chown -R postgres: "$tls_dir"
  {
    echo "ssl = on"
    echo "ssl_cert_file = '$tls_dir/server.crt'"
    echo "ssl_key_file = '$tls_dir/server.key'"
  } >>"$dir/data/postgresql.conf"
fi

# With TLS a free port is needed; postgres cannot take port 0, so pick one that nothing answers on and
# try another when the server still could not bind it (another program took it in between).
attempts=1
[ "$tls" = yes ] && attempts=8
for ((i = 1; i <= attempts; i++)); do
  if [ "$tls" = yes ]; then
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
    listen="-c listen_addresses=127.0.0.1 -p $port"
  else
    port=5432
    listen="-c listen_addresses="
  fi
  if as_owner "$bin/pg_ctl" -D "$dir/data" -o "-k $dir $listen" -l "$dir/server.log" -w -t 60 start >/dev/null; then
    echo "$port" >"$dir/port"
    # The group whose members must log in with a password (pg_hba above).
    "$bin/psql" -h "$dir" -p "$port" -U schakel -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE schakel_password_login NOLOGIN" >/dev/null
    elapsed_ms=$((($(date +%s%N) - started) / 1000000))
    echo "pg_cluster.sh: cluster in $dir started in ${elapsed_ms} ms"
    exit 0
  fi
done
echo "pg_cluster.sh: the server in $dir did not start; its log:" >&2
cat "$dir/server.log" >&2 || true
exit 1
