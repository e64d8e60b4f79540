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
#   BRIDGEHEAD_API_AUTH      admin:change-me                            user:password for the API and UI
#   BRIDGEHEAD_PREFECT_HOST  127.0.0.1 (0.0.0.0 to serve other machines)
#   BRIDGEHEAD_PREFECT_PORT  4200
#   BRIDGEHEAD_WORKERS       1                                          process workers started by `up`
#   BRIDGEHEAD_STATE         var/station-network                        pid files and logs
#   BRIDGEHEAD_ALERT_WEBHOOK (optional) where the automations POST their alerts
set -euo pipefail
cd "$(dirname "$0")/.."
export BRIDGEHEAD_HOME="${BRIDGEHEAD_HOME:-$PWD}"   # prefect.yaml's pull step runs flows from here

BIN="${BRIDGEHEAD_BIN:-$PWD/.venv/bin}"
PG="${BRIDGEHEAD_PG:-postgresql://postgres@127.0.0.1:5432}"
PREFECT_DB="${BRIDGEHEAD_PREFECT_DB:-bridgehead_prefect}"
export BRIDGEHEAD_DATABASE_URL="${BRIDGEHEAD_DATABASE_URL:-$PG/bridgehead}"
AUTH="${BRIDGEHEAD_API_AUTH:-admin:change-me}"
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

create_database() {  # $1: database name on $PG (trust or password auth as configured)
  psql "$PG/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1 \
    || psql "$PG/postgres" -qc "CREATE DATABASE \"$1\""
}

server() {
  if running "$STATE/server.pid"; then echo "server already running (pid $(cat "$STATE/server.pid"))"; return; fi
  create_database "$PREFECT_DB"
  PREFECT_SERVER_DATABASE_CONNECTION_URL="postgresql+asyncpg://${PG#postgresql://}/$PREFECT_DB" \
  PREFECT_SERVER_API_AUTH_STRING="$AUTH" PREFECT_SERVER_UI_API_URL="${PREFECT_SERVER_UI_API_URL:-$PREFECT_API_URL}" \
  PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="${PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS:-15}" \
    setsid "$BIN/prefect" server start --host "$HOST" --port "$PORT" >"$STATE/server.log" 2>&1 &
  echo $! >"$STATE/server.pid"
  for _ in $(seq 120); do
    curl -sf -u "$AUTH" "$PREFECT_API_URL/health" >/dev/null && { echo "server up: ${PREFECT_API_URL%/api} (pid $(cat "$STATE/server.pid"))"; return; }
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
  *) sed -n '2,22p' "$0"; exit 2 ;;
esac
