#!/usr/bin/env bash
# A station network's production layout (生产部署), scripted: one Prefect server on PostgreSQL with API
# auth, Bridgehead's own database on PostgreSQL, every deployment of prefect.yaml, the automations, and
# process workers. Run on the server machine; on other machines run only `worker` with the same
# PREFECT_API_URL, PREFECT_API_AUTH_STRING and BRIDGEHEAD_DATABASE_URL.
#
#   deployments/station_network.sh up        # server, schema, work pool, deployments, automations, workers
#   deployments/station_network.sh worker    # one more process worker (on this or another machine)
#   deployments/station_network.sh status    # what runs, by process id
#   deployments/station_network.sh down      # stop everything this script started, by process id
#
# Settings (environment), with the defaults used on this machine:
#   BRIDGEHEAD_PG            postgresql://postgres@127.0.0.1:5432      where both databases live
#   BRIDGEHEAD_PREFECT_DB    bridgehead_prefect                         Prefect's own database
#   BRIDGEHEAD_DATABASE_URL  $BRIDGEHEAD_PG/bridgehead                  Bridgehead's database
#   BRIDGEHEAD_API_AUTH      admin:change-me, on loopback only          user:password for the API and UI
#   BRIDGEHEAD_PREFECT_HOST  127.0.0.1 (0.0.0.0 to serve other machines: set BRIDGEHEAD_API_AUTH first)
#   BRIDGEHEAD_PREFECT_PORT  4200
#   BRIDGEHEAD_WORKERS       1                                          process workers started by `up`
#   BRIDGEHEAD_STATE         var/station-network                        pid files and logs
#   BRIDGEHEAD_ALERT_WEBHOOK (optional) where the automations POST their alerts
#   BRIDGEHEAD_VAR_DIR       $BRIDGEHEAD_HOME/var   (the sealing key: keys/ there, or BRIDGEHEAD_SECRET_BLOCK)
# No secret goes on a command line (where `ps` shows it): they travel in the environment or on stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
export BRIDGEHEAD_HOME="${BRIDGEHEAD_HOME:-$PWD}"   # prefect.yaml's pull step runs flows from here
export BRIDGEHEAD_VAR_DIR="${BRIDGEHEAD_VAR_DIR:-$BRIDGEHEAD_HOME/var}"   # absolute: one key per database

BIN="${BRIDGEHEAD_BIN:-$PWD/.venv/bin}"
PG="${BRIDGEHEAD_PG:-postgresql://postgres@127.0.0.1:5432}"
PREFECT_DB="${BRIDGEHEAD_PREFECT_DB:-bridgehead_prefect}"
export BRIDGEHEAD_DATABASE_URL="${BRIDGEHEAD_DATABASE_URL:-$PG/bridgehead}"
DEFAULT_AUTH="admin:change-me"
AUTH="${BRIDGEHEAD_API_AUTH:-$DEFAULT_AUTH}"
HOST="${BRIDGEHEAD_PREFECT_HOST:-127.0.0.1}"
PORT="${BRIDGEHEAD_PREFECT_PORT:-4200}"
STATE="${BRIDGEHEAD_STATE:-var/station-network}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"

# Clients (the CLI, workers, `prefect deploy`) reach the server with the same credentials.
export PREFECT_API_URL="${PREFECT_API_URL:-http://127.0.0.1:$PORT/api}"
export PREFECT_API_AUTH_STRING="$AUTH"
export PREFECT_HOME="$STATE/prefect-home"
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

refuse_default_password() {  # the default password is for a server only this machine can reach
  case "$HOST" in 127.0.0.1 | localhost | ::1) return ;; esac
  local password="${AUTH#*:}"
  if [[ "$AUTH" == "$DEFAULT_AUTH" || "$AUTH" != *:* || -z "$password" || "$password" == change-me ]]; then
    echo "refused: BRIDGEHEAD_PREFECT_HOST=$HOST serves other machines; set BRIDGEHEAD_API_AUTH to user:password of your own (not the default admin:change-me)" >&2
    exit 2
  fi
}

api_curl() {  # curl with the API's user:password in a config read from stdin, never in its arguments
  local quoted="${AUTH//\\/\\\\}"
  quoted="${quoted//\"/\\\"}"
  printf 'user = "%s"\n' "$quoted" | curl --config - "$@"
}

create_database() {  # $1: database name on $PG; the URL (it may hold a password) goes by the environment
  BRIDGEHEAD_PG_URL="$PG/postgres" BRIDGEHEAD_NEW_DB="$1" "$BIN/python" - <<'PY'
import os

import psycopg
from psycopg import sql

with psycopg.connect(os.environ["BRIDGEHEAD_PG_URL"], autocommit=True) as conn:
    name = os.environ["BRIDGEHEAD_NEW_DB"]
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
}

server() {
  if running "$STATE/server.pid"; then echo "server already running (pid $(cat "$STATE/server.pid"))"; return; fi
  refuse_default_password
  [[ -n "${BRIDGEHEAD_API_AUTH:-}" ]] || echo "BRIDGEHEAD_API_AUTH is not set: the default password, on loopback only" >&2
  create_database "$PREFECT_DB"
  PREFECT_SERVER_DATABASE_CONNECTION_URL="postgresql+asyncpg://${PG#postgresql://}/$PREFECT_DB" \
  PREFECT_SERVER_API_AUTH_STRING="$AUTH" PREFECT_SERVER_UI_API_URL="${PREFECT_SERVER_UI_API_URL:-$PREFECT_API_URL}" \
  PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="${PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS:-15}" \
    setsid "$BIN/prefect" server start --host "$HOST" --port "$PORT" >"$STATE/server.log" 2>&1 &
  echo $! >"$STATE/server.pid"
  for _ in $(seq 120); do
    api_curl -sf "$PREFECT_API_URL/health" >/dev/null && { echo "server up: ${PREFECT_API_URL%/api} (pid $(cat "$STATE/server.pid"))"; return; }
    running "$STATE/server.pid" || { tail -20 "$STATE/server.log"; exit 1; }
    sleep 1
  done
  echo "server did not become healthy; see $STATE/server.log"; exit 1
}

worker() {
  local n=1
  while [[ -f "$STATE/worker-$n.pid" ]] && running "$STATE/worker-$n.pid"; do n=$((n + 1)); done
  PREFECT_WORKER_QUERY_SECONDS="${PREFECT_WORKER_QUERY_SECONDS:-5}" \
    setsid "$BIN/prefect" worker start --pool bridgehead --name "$(hostname)-$n" >"$STATE/worker-$n.log" 2>&1 &
  echo $! >"$STATE/worker-$n.pid"
  echo "worker $(hostname)-$n started (pid $(cat "$STATE/worker-$n.pid"))"
}

up() {
  server
  create_database "${BRIDGEHEAD_DATABASE_URL##*/}"
  "$BIN/bridgehead" init
  "$BIN/prefect" work-pool inspect bridgehead >/dev/null 2>&1 \
    || "$BIN/prefect" work-pool create bridgehead --type process >/dev/null
  "$BIN/prefect" --no-prompt deploy --all >"$STATE/deploy.log" 2>&1 || { tail -30 "$STATE/deploy.log"; exit 1; }
  echo "deployments: $(grep -c '^  - name:' prefect.yaml) from prefect.yaml"
  if [[ -n "${BRIDGEHEAD_ALERT_WEBHOOK:-}" ]] || "$BIN/prefect" block inspect custom-webhook/bridgehead-alerts >/dev/null 2>&1; then
    "$BIN/bridgehead" automations apply
  else
    echo "automations not applied: set BRIDGEHEAD_ALERT_WEBHOOK to your alerting's URL and run up again"
  fi
  for _ in $(seq "${BRIDGEHEAD_WORKERS:-1}"); do worker; done
}

stop_pid() {  # $1: pid file; the process and its session (flow runs started by a worker) go too
  local pid
  running "$1" || { rm -f "$1"; return; }
  pid="$(cat "$1")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$1"
  echo "stopped $(basename "$1" .pid) (pid $pid)"
}

down() {
  for f in "$STATE"/worker-*.pid; do [[ -e "$f" ]] && stop_pid "$f"; done
  stop_pid "$STATE/server.pid"
}

status() {
  for f in "$STATE"/*.pid; do
    [[ -e "$f" ]] || continue
    if running "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; else echo "$(basename "$f" .pid): gone"; fi
  done
}

case "${1:-}" in
  up) up ;;
  worker) worker ;;
  down) down ;;
  status) status ;;
  *) sed -n '2,23p' "$0"; exit 2 ;;
esac
