#!/usr/bin/env bash
# A real Mattermost server (Team Edition, built from source) and a throw-away
# PostgreSQL cluster, for the end-to-end tests. No Docker, no mocks.
#
#   scripts/mattermost.sh up      build once (cached), start PG + Mattermost, bootstrap
#   scripts/mattermost.sh env     print KEY=value lines for the tests (after `up`)
#   scripts/mattermost.sh status  say what runs
#   scripts/mattermost.sh logs    tail the Mattermost log (logs -f to follow)
#   scripts/mattermost.sh restart stop and start the Mattermost server only (PG keeps running)
#   scripts/mattermost.sh down    stop Mattermost and the PG cluster (data kept)
#   scripts/mattermost.sh reset   down + delete the run dir (fresh DB next `up`)
#   scripts/mattermost.sh build   only build the server (cached)
#
# See docs/mattermost-server.md for the why of the pinned versions and the figures.
set -euo pipefail

# --- pinned versions --------------------------------------------------------
# Server module at commit 9e1d4c2072c0 (2026-01-13) and the public module at
# commit 8e4cadbc88ee (30 min later): the pair mattermost-plugin-playbooks pins.
# The public module at the server's own commit is not served by the module proxy.
MM_SERVER_MODULE="github.com/mattermost/mattermost/server/v8"
MM_SERVER_VERSION="v8.0.0-20260113162330-9e1d4c2072c0"
MM_PUBLIC_MODULE="github.com/mattermost/mattermost/server/public"
MM_PUBLIC_VERSION="v0.1.22-0.20260113165922-8e4cadbc88ee"
MM_GO_DIRECTIVE="1.24.11"          # server/go.mod's own go directive
MM_MIN_PG_MAJOR=14

# --- locations and ports (overridable) --------------------------------------
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${INTRA_BOT_CACHE:-$HOME/.cache/intra-bot}"
MM_HOME="$CACHE_ROOT/mattermost/${MM_SERVER_VERSION}+${MM_PUBLIC_VERSION}"
MM_BIN="$MM_HOME/bin/mattermost"
RUN_DIR="${INTRA_BOT_MM_RUN:-/tmp/intra-bot-mm}"
PG_PORT="${INTRA_BOT_PG_PORT:-55432}"
MM_PORT="${INTRA_BOT_MM_PORT:-18065}"
MM_START_TIMEOUT="${INTRA_BOT_MM_START_TIMEOUT:-180}"
GO_BUILD_P="${INTRA_BOT_GO_BUILD_P:-2}"

PG_DATA="$RUN_DIR/pg/data"
PG_SOCK="$RUN_DIR/pg/sock"
PG_LOG="$RUN_DIR/pg/postgres.log"
MM_LOG="$RUN_DIR/mattermost.log"
MM_PID="$RUN_DIR/mattermost.pid"
ENV_FILE="$RUN_DIR/env"
PG_DB_USER="mmuser"
PG_DB_PASSWORD="mmpw"
PG_DB_NAME="mattermost"
PG_TEST_DB="intrabot_test"
MM_URL="http://127.0.0.1:$MM_PORT"

log() { printf '[mattermost.sh] %s\n' "$*" >&2; }
die() { printf '[mattermost.sh] ERROR: %s\n' "$*" >&2; exit 1; }

# --- PostgreSQL --------------------------------------------------------------
PG_BIN=""
find_pg_bin() {
    local d major best="" best_major=0
    # an existing cluster runs with the binaries of its own major version
    if [ -f "$PG_DATA/PG_VERSION" ]; then
        d="/usr/lib/postgresql/$(cat "$PG_DATA/PG_VERSION")/bin"
        if [ -x "$d/pg_ctl" ]; then PG_BIN="$d"; return 0; fi
    fi
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || continue
        major="$(basename "$(dirname "$d")")"
        [[ "$major" =~ ^[0-9]+$ ]] || continue
        if [ "$major" -ge "$MM_MIN_PG_MAJOR" ] && [ "$major" -gt "$best_major" ]; then
            best="$d"; best_major="$major"
        fi
    done
    PG_BIN="$best"
}

ensure_pg_installed() {
    find_pg_bin
    [ -n "$PG_BIN" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "PostgreSQL >= $MM_MIN_PG_MAJOR server binaries not found under /usr/lib/postgresql/*/bin and not root: install the 'postgresql' package."
    fi
    log "PostgreSQL not found: apt-get install postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq postgresql >/dev/null || die "apt-get install -y postgresql failed"
    find_pg_bin
    [ -n "$PG_BIN" ] || die "PostgreSQL installed but no /usr/lib/postgresql/<major>/bin/initdb found"
}

# Run a PostgreSQL command as the cluster owner (postgres refuses to run as root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_running() {
    [ -n "$PG_BIN" ] || find_pg_bin
    [ -n "$PG_BIN" ] && [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

psql_admin() {
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_up() {
    ensure_pg_installed
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        die "running as root but there is no 'postgres' OS user (the postgresql package creates it)"
    fi
    mkdir -p "$RUN_DIR/pg"
    chmod 755 "$RUN_DIR" "$RUN_DIR/pg"
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$RUN_DIR/pg"; then
        die "the postgres OS user cannot reach $RUN_DIR (a parent dir is not world-searchable): set INTRA_BOT_MM_RUN elsewhere, e.g. under /tmp"
    fi
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        log "initdb $PG_DATA ($PG_BIN)"
        rm -rf "$PG_DATA"
        mkdir -p "$PG_DATA" "$PG_SOCK"
        [ "$(id -u)" -eq 0 ] && chown -R postgres: "$RUN_DIR/pg"
        chmod 700 "$PG_DATA"
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
            --auth-local=trust --auth-host=scram-sha-256 >"$RUN_DIR/pg/initdb.log" 2>&1 \
            || { tail -n 30 "$RUN_DIR/pg/initdb.log" >&2; die "initdb failed (log: $RUN_DIR/pg/initdb.log)"; }
        cat >>"$PG_DATA/postgresql.conf" <<EOF

# intra-bot throw-away test cluster
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    mkdir -p "$PG_SOCK"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_SOCK" "$RUN_DIR/pg"
    if ! pg_running; then
        if port_busy "$PG_PORT"; then
            die "port $PG_PORT (PostgreSQL) is already used by another process; set INTRA_BOT_PG_PORT"
        fi
        log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
        [ "$(id -u)" -eq 0 ] && { touch "$PG_LOG"; chown postgres: "$PG_LOG"; }
        # 8>&- 9>&-: the long-lived server must not inherit (and hold) our lock fds
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null 8>&- 9>&- \
            || { tail -n 50 "$PG_LOG" >&2 || true; die "PostgreSQL did not start (log: $PG_LOG)"; }
    fi
    # role + databases (idempotent)
    psql_admin <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_DB_USER') THEN
    CREATE ROLE $PG_DB_USER LOGIN PASSWORD '$PG_DB_PASSWORD';
  END IF;
END \$\$;
EOF
    local db
    for db in "$PG_DB_NAME" "$PG_TEST_DB"; do
        if [ -z "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
            psql_admin -c "CREATE DATABASE $db OWNER $PG_DB_USER"
        fi
    done
}

pg_down() {
    find_pg_bin
    if pg_running; then
        log "stopping PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null || die "pg_ctl stop failed"
    fi
}

port_busy() {
    # true when something listens on 127.0.0.1:$1
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
sys.exit(0)
EOF
}

# --- build -----------------------------------------------------------------
mm_build() {
    if [ -x "$MM_BIN" ] && [ -d "$MM_HOME/i18n" ] && [ -d "$MM_HOME/templates" ] && [ -d "$MM_HOME/fonts" ]; then
        return 0
    fi
    command -v go >/dev/null 2>&1 || die "the 'go' toolchain is not on PATH: it is needed to build Mattermost"
    # one build at a time per cache dir; re-check once we hold the lock
    mkdir -p "$(dirname "$MM_HOME")"
    exec 9>"$MM_HOME.lock"
    flock 9
    if [ -x "$MM_BIN" ] && [ -d "$MM_HOME/i18n" ] && [ -d "$MM_HOME/templates" ] && [ -d "$MM_HOME/fonts" ]; then
        exec 9>&-
        return 0
    fi
    rm -rf "$MM_HOME".build.*
    log "building Mattermost $MM_SERVER_VERSION (public $MM_PUBLIC_VERSION) into $MM_HOME; this takes a while the first time"
    # The checksum database does not know these pseudo-versions: skip it for
    # the two Mattermost modules only (every other dependency is verified
    # against server/go.sum and public/go.sum).
    export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/mattermost/mattermost"
    export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
    export GOTOOLCHAIN=local
    local work="$MM_HOME.build.$$"
    rm -rf "$work"
    mkdir -p "$work/src" "$work/bin"
    local dl_json="$work/download.json"
    local t0=$SECONDS
    (cd "$work" && go mod download -json "$MM_SERVER_MODULE@$MM_SERVER_VERSION" "$MM_PUBLIC_MODULE@$MM_PUBLIC_VERSION" >"$dl_json" 2>"$work/download.err") \
        || { cat "$dl_json" "$work/download.err" >&2; die "go mod download of the Mattermost modules failed"; }
    local server_dir public_dir
    server_dir="$(python3 -c 'import json,sys
dec=json.JSONDecoder(); s=open(sys.argv[1]).read(); i=0; out={}
while i < len(s):
    while i < len(s) and s[i].isspace(): i+=1
    if i >= len(s): break
    o,i=dec.raw_decode(s,i); out[o["Path"]]=o.get("Dir","")
print(out.get(sys.argv[2],""))' "$dl_json" "$MM_SERVER_MODULE")"
    public_dir="$(python3 -c 'import json,sys
dec=json.JSONDecoder(); s=open(sys.argv[1]).read(); i=0; out={}
while i < len(s):
    while i < len(s) and s[i].isspace(): i+=1
    if i >= len(s): break
    o,i=dec.raw_decode(s,i); out[o["Path"]]=o.get("Dir","")
print(out.get(sys.argv[2],""))' "$dl_json" "$MM_PUBLIC_MODULE")"
    [ -d "$server_dir" ] && [ -d "$public_dir" ] || { cat "$dl_json" >&2; die "module download gave no directory"; }
    # Module cache copies are read-only: build from writable copies joined by a go.work,
    # as upstream does (server/ + server/public/ in one workspace).
    cp -r "$server_dir" "$work/src/server"
    cp -r "$public_dir" "$work/src/public"
    chmod -R u+w "$work/src"
    printf 'go %s\n\nuse (\n\t./server\n\t./public\n)\n' "$MM_GO_DIRECTIVE" >"$work/src/go.work"
    export GOWORK="$work/src/go.work"
    log "downloading the dependencies (go mod download)"
    (cd "$work/src/server" && go mod download) >"$work/deps.log" 2>&1 \
        || { tail -n 50 "$work/deps.log" >&2; die "go mod download of Mattermost's dependencies failed"; }
    log "modules ready after $((SECONDS - t0)) s; go build -p $GO_BUILD_P (Team Edition, -tags production)"
    local ldflags="-X github.com/mattermost/mattermost/server/public/model.BuildNumber=${MM_SERVER_VERSION}"
    ldflags+=" -X github.com/mattermost/mattermost/server/public/model.BuildHash=${MM_SERVER_VERSION##*-}"
    ldflags+=" -X github.com/mattermost/mattermost/server/public/model.BuildEnterpriseReady=false"
    (cd "$work/src/server" && go build -p "$GO_BUILD_P" -trimpath -tags production \
        -ldflags "$ldflags" -o "$work/bin/mattermost" ./cmd/mattermost) >"$work/build.log" 2>&1 \
        || { tail -n 50 "$work/build.log" >&2; die "go build of Mattermost failed (full log: $work/build.log)"; }
    local d
    for d in i18n templates fonts; do
        cp -r "$work/src/server/$d" "$work/$d"
    done
    mkdir -p "$MM_HOME"
    rm -rf "$MM_HOME/i18n" "$MM_HOME/templates" "$MM_HOME/fonts" "$MM_HOME/bin"
    mv "$work/i18n" "$work/templates" "$work/fonts" "$work/bin" "$MM_HOME/"
    rm -rf "$work"
    exec 9>&-
    log "built $MM_BIN in $((SECONDS - t0)) s"
}

# --- Mattermost ------------------------------------------------------------
mm_pid() {
    local pid
    [ -f "$MM_PID" ] || return 1
    pid="$(cat "$MM_PID")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # make sure the pid is still our server, not a recycled pid
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "mattermost" || return 1
    echo "$pid"
}

mm_ping() {
    python3 -c 'import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if r.status == 200 else 1)' "$MM_URL/api/v4/system/ping" >/dev/null 2>&1
}

mm_env() {
    # Mattermost settings through MM_<SECTION>_<SETTING> environment variables.
    export MM_CONFIG="$RUN_DIR/config.json"
    export MM_SQLSETTINGS_DRIVERNAME=postgres
    export MM_SQLSETTINGS_DATASOURCE="postgres://$PG_DB_USER:$PG_DB_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB_NAME?sslmode=disable&connect_timeout=10"
    export MM_SERVICESETTINGS_SITEURL="$MM_URL"
    export MM_SERVICESETTINGS_LISTENADDRESS="127.0.0.1:$MM_PORT"
    export MM_SERVICESETTINGS_WEBSERVERMODE=disabled
    export MM_SERVICESETTINGS_ALLOWEDUNTRUSTEDINTERNALCONNECTIONS="127.0.0.0/8 localhost"
    export MM_SERVICESETTINGS_ENABLEBOTACCOUNTCREATION=true
    export MM_SERVICESETTINGS_ENABLEUSERACCESSTOKENS=true
    export MM_SERVICESETTINGS_ENABLELOCALMODE=true
    export MM_SERVICESETTINGS_LOCALMODESOCKETLOCATION="$RUN_DIR/mm.sock"
    export MM_SERVICESETTINGS_ENABLESECURITYFIXALERT=false
    export MM_SERVICESETTINGS_ENABLECOMMANDS=true
    export MM_SERVICESETTINGS_ENABLEONLYADMININTEGRATIONS=false
    export MM_SERVICESETTINGS_ENABLEPOSTUSERNAMEOVERRIDE=true
    export MM_SERVICESETTINGS_ENABLEPOSTICONOVERRIDE=true
    export MM_SERVICESETTINGS_ENABLEINCOMINGWEBHOOKS=true
    export MM_SERVICESETTINGS_ENABLEOUTGOINGWEBHOOKS=true
    export MM_SERVICESETTINGS_ENABLEINSECUREOUTGOINGCONNECTIONS=true
    export MM_SERVICESETTINGS_ENABLELINKPREVIEWS=false
    export MM_SERVICESETTINGS_ENABLEAPIUSERDELETION=true
    export MM_SERVICESETTINGS_ENABLEAPICHANNELDELETION=true
    export MM_PLUGINSETTINGS_ENABLE=false
    export MM_PLUGINSETTINGS_ENABLEUPLOADS=false
    export MM_PLUGINSETTINGS_ENABLEMARKETPLACE=false
    export MM_PLUGINSETTINGS_ENABLEREMOTEMARKETPLACE=false
    export MM_PLUGINSETTINGS_AUTOMATICPREPACKAGEDPLUGINS=false
    export MM_PLUGINSETTINGS_DIRECTORY="$RUN_DIR/plugins"
    export MM_PLUGINSETTINGS_CLIENTDIRECTORY="$RUN_DIR/client/plugins"
    export MM_ANNOUNCEMENTSETTINGS_ADMINNOTICESENABLED=false
    export MM_ANNOUNCEMENTSETTINGS_USERNOTICESENABLED=false
    export MM_LOGSETTINGS_ENABLEDIAGNOSTICS=false
    export MM_LOGSETTINGS_ENABLESENTRY=false
    export MM_LOGSETTINGS_ENABLECONSOLE=true
    export MM_LOGSETTINGS_CONSOLELEVEL="${INTRA_BOT_MM_LOG_LEVEL:-INFO}"
    export MM_LOGSETTINGS_CONSOLEJSON=false
    export MM_LOGSETTINGS_ENABLEFILE=false
    export MM_LOGSETTINGS_FILELOCATION="$RUN_DIR/logs"
    export MM_NOTIFICATIONLOGSETTINGS_ENABLEFILE=false
    export MM_NOTIFICATIONLOGSETTINGS_FILELOCATION="$RUN_DIR/logs"
    export MM_EMAILSETTINGS_SENDEMAILNOTIFICATIONS=false
    export MM_EMAILSETTINGS_REQUIREEMAILVERIFICATION=false
    export MM_EMAILSETTINGS_SENDPUSHNOTIFICATIONS=false
    export MM_TEAMSETTINGS_ENABLEOPENSERVER=false
    export MM_TEAMSETTINGS_MAXUSERSPERTEAM=1000
    export MM_RATELIMITSETTINGS_ENABLE=false
    export MM_FILESETTINGS_DIRECTORY="$RUN_DIR/data/"
    export MM_METRICSSETTINGS_ENABLE=false
    export MM_ELASTICSEARCHSETTINGS_ENABLEINDEXING=false
    export MM_BLEVESETTINGS_ENABLEINDEXING=false
    export MM_FEATUREFLAGS_ONBOARDINGTOURTIPS=false
    export MM_SERVICESETTINGS_ENABLEONBOARDINGFLOW=false
}

mm_start() {
    local pid
    if pid="$(mm_pid)"; then
        if mm_ping; then
            log "Mattermost already running (pid $pid) at $MM_URL"
            return 0
        fi
    elif port_busy "$MM_PORT"; then
        die "port $MM_PORT (Mattermost) is already used by another process; set INTRA_BOT_MM_PORT"
    fi
    if [ -z "${pid:-}" ]; then
        mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/plugins" "$RUN_DIR/client/plugins"
        rm -f "$RUN_DIR/mm.sock"
        log "starting Mattermost at $MM_URL (log: $MM_LOG)"
        (
            exec 8>&- 9>&-  # the server must not inherit (and hold) our lock fds
            mm_env
            cd "$MM_HOME"
            # setsid: own session so that the caller's Ctrl-C / job control does not kill it
            nohup setsid "$MM_BIN" server >>"$MM_LOG" 2>&1 </dev/null &
            echo $! >"$MM_PID"
        )
        pid="$(cat "$MM_PID")"
    fi
    local t0=$SECONDS
    until mm_ping; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 50 "$MM_LOG" >&2 || true
            die "Mattermost exited during start-up (log: $MM_LOG)"
        fi
        if [ $((SECONDS - t0)) -ge "$MM_START_TIMEOUT" ]; then
            tail -n 50 "$MM_LOG" >&2 || true
            die "Mattermost did not answer $MM_URL/api/v4/system/ping within $MM_START_TIMEOUT s (log: $MM_LOG)"
        fi
        sleep 0.5
    done
    log "Mattermost answers after $((SECONDS - t0)) s (pid $pid)"
}

mm_stop() {
    local pid i
    if pid="$(mm_pid)"; then
        log "stopping Mattermost (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "Mattermost did not stop in 30 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$MM_PID"
}

bootstrap() {
    INTRA_BOT_PG_TEST_DSN="postgresql://$PG_DB_USER:$PG_DB_PASSWORD@127.0.0.1:$PG_PORT/$PG_TEST_DB" \
        python3 "$SCRIPT_DIR/mattermost/bootstrap.py" --url "$MM_URL" --run-dir "$RUN_DIR" --env-file "$ENV_FILE" \
        || die "bootstrap of users, team, channels and bot failed"
}

cmd_up() {
    command -v python3 >/dev/null 2>&1 || die "python3 is needed"
    local t0=$SECONDS
    mkdir -p "$RUN_DIR"
    # one `up` at a time per run dir (e.g. two pytest sessions starting together)
    exec 8>"$RUN_DIR.lock"
    flock 8
    mm_build
    pg_up
    mm_start
    bootstrap
    log "ready in $((SECONDS - t0)) s: $MM_URL (scripts/mattermost.sh env for the variables)"
}

cmd_down() {
    mm_stop
    pg_down
    # A test session marks a server it started (tests/servers.py); stopped, it is no one's.
    rm -f "$RUN_DIR/started-by-tests"
}

# Restart the Mattermost server only (PostgreSQL keeps running): what the bot's
# reconnection test does to it.
cmd_restart() {
    find_pg_bin
    pg_running || die "PostgreSQL is not running: use 'up'"
    mm_stop
    mm_start
}

cmd_env() {
    [ -f "$ENV_FILE" ] || die "no $ENV_FILE: run 'scripts/mattermost.sh up' first"
    cat "$ENV_FILE"
}

cmd_status() {
    local pid rc=0
    find_pg_bin
    if pg_running; then echo "postgresql: running on 127.0.0.1:$PG_PORT (data $PG_DATA)"; else echo "postgresql: stopped"; rc=1; fi
    if pid="$(mm_pid)"; then
        if mm_ping; then echo "mattermost: running (pid $pid) at $MM_URL"; else echo "mattermost: process $pid up but not answering at $MM_URL"; rc=1; fi
    else
        echo "mattermost: stopped"; rc=1
    fi
    if [ -x "$MM_BIN" ]; then echo "binary: $MM_BIN"; else echo "binary: not built ($MM_BIN)"; fi
    return $rc
}

cmd_logs() {
    [ -f "$MM_LOG" ] || die "no log yet ($MM_LOG)"
    if [ "${1:-}" = "-f" ]; then tail -n 100 -F "$MM_LOG"; else tail -n "${1:-100}" "$MM_LOG"; fi
}

cmd_reset() {
    cmd_down
    log "removing $RUN_DIR"
    rm -rf "$RUN_DIR"
}

main() {
    case "${1:-}" in
        up) cmd_up ;;
        down) cmd_down ;;
        restart) cmd_restart ;;
        env) cmd_env ;;
        status) cmd_status ;;
        logs) shift; cmd_logs "$@" ;;
        reset) cmd_reset ;;
        build) mm_build; echo "$MM_BIN" ;;
        *) echo "usage: $0 up|down|restart|env|status|logs [-f|N]|reset|build" >&2; exit 2 ;;
    esac
}

# One line, parsed whole before it runs: editing this file while it runs is safe.
main "$@"; exit $?
