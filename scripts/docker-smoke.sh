#!/usr/bin/env bash
# Build the project's image and prove it, on this machine, with no container registry:
#
#   1. a private Docker daemon (Debian's docker.io) on its own socket, stopped by PID at the end;
#   2. a base image made from Debian packages (mmdebstrap), built once and cached beside the
#      Mattermost build, rebuilt when its recipe changes;
#   3. the clean-room check: the fast suites (unit, services, contract, CLI, eval) inside a fresh container that has
#      only the locked dependencies (a dependency missing from pyproject.toml fails here);
#   4. the runtime image: non-root, /healthz 503 with store and content ok while Mattermost is
#      unreachable, `intra-bot ask` inside, the PostgreSQL driver, SIGHUP reload, `docker stop`
#      within 10 s; then against the real test Mattermost (scripts/mattermost.sh): /healthz 200
#      and `/intra referents` through commands/execute answered by the container;
#   5. the image size.
#
#   scripts/docker-smoke.sh            all of it (as root, or with a working Docker daemon access)
#   scripts/docker-smoke.sh --no-mattermost   skip the part against the real server
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WITH_MATTERMOST=1
[ "${1:-}" = "--no-mattermost" ] && WITH_MATTERMOST=0

CACHE_ROOT="${INTRA_BOT_CACHE:-$HOME/.cache/intra-bot}"
RUN_DIR="${INTRA_BOT_DOCKER_RUN:-/tmp/intra-bot-docker}"
DATA_ROOT="$CACHE_ROOT/docker/data"        # images survive between runs: the cache
BASE_CACHE="$CACHE_ROOT/docker/base"       # the base image's tarball, by recipe hash
SOCK="$RUN_DIR/docker.sock"
SUITE="bookworm"                           # the Debian release of the default BASE (Dockerfile)
IMAGE="intra-bot:smoke"
CLEANROOM="intra-bot:cleanroom"
DOCKER=/usr/bin/docker                     # Debian's client: BuildKit built in
export DOCKER_HOST="unix://$SOCK" DOCKER_BUILDKIT=1

log() { printf '[docker-smoke] %s\n' "$*" >&2; }
die() { printf '[docker-smoke] FAILED: %s\n' "$*" >&2; exit 1; }
T0=$SECONDS

# --- tools -------------------------------------------------------------------
ensure_tools() {
    if [ -x /usr/sbin/dockerd ] && [ -x "$DOCKER" ] && command -v mmdebstrap >/dev/null 2>&1; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "docker.io and mmdebstrap are missing and this is not root: apt-get install docker.io mmdebstrap"
    log "installing docker.io and mmdebstrap from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker.io mmdebstrap >/dev/null
}

# --- the private daemon ------------------------------------------------------
DAEMON_PID=""
start_daemon() {
    mkdir -p "$RUN_DIR" "$DATA_ROOT"
    stop_stale_daemon
    log "starting a private dockerd on $SOCK"
    /usr/sbin/dockerd --data-root "$DATA_ROOT" --exec-root "$RUN_DIR/exec" -H "unix://$SOCK" \
        --pidfile "$RUN_DIR/dockerd.pid" --iptables=false --ip-forward=false --ip-masq=false \
        --bridge=none >"$RUN_DIR/dockerd.log" 2>&1 &
    DAEMON_PID=$!
    local deadline=$((SECONDS + 60))
    until "$DOCKER" info >/dev/null 2>&1; do
        kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 30 "$RUN_DIR/dockerd.log" >&2; die "dockerd exited"; }
        [ $SECONDS -lt $deadline ] || { tail -n 30 "$RUN_DIR/dockerd.log" >&2; die "dockerd did not answer within 60 s"; }
        sleep 0.5
    done
}

stop_stale_daemon() {  # a run killed before its cleanup left its daemon behind
    local pid
    pid="$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        log "stopping a daemon left by an earlier run (pid $pid)"
        kill "$pid"; wait_gone "$pid" 20 || kill -9 "$pid" 2>/dev/null || true
    fi
    unmount_exec_root
}

wait_gone() {  # $1 pid, $2 seconds
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

unmount_exec_root() {  # dockerd leaves its netns mount behind
    if [ -d "$RUN_DIR/exec" ]; then
        local m
        for m in $(awk -v root="$RUN_DIR/exec" 'index($2, root) == 1 { print $2 }' /proc/self/mounts | sort -r); do
            umount "$m" 2>/dev/null || true
        done
        rm -rf "$RUN_DIR/exec"
    fi
}

cleanup() {
    local status=$?
    if [ -n "$DAEMON_PID" ]; then
        "$DOCKER" ps -aq --filter "label=intra-bot-smoke" 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
        kill "$DAEMON_PID" 2>/dev/null || true
        wait_gone "$DAEMON_PID" 20 || kill -9 "$DAEMON_PID" 2>/dev/null || true
        unmount_exec_root
    fi
    [ $status -eq 0 ] || log "see $RUN_DIR/dockerd.log and the output above"
    exit $status
}
trap cleanup EXIT

# --- the base image from Debian packages --------------------------------------
# The host's own apt sources (its Debian mirror), and what this machine needs to reach the
# package registries from inside a container: its extra CA certificates and pip's settings.
base_recipe() {
    local sources
    sources="$(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    {
        echo "mmdebstrap --variant=minbase $SUITE include=$BASE_PACKAGES purge=$BASE_PURGE ${BASE_DPKG_OPTS[*]}"
        for f in $sources; do cat "$f"; done
        apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' || true
        cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true
        cat /etc/pip.conf 2>/dev/null || true
        sed -n '/^base_recipe()/,/^}/p;/^build_base()/,/^}/p' "${BASH_SOURCE[0]}"
    } | sha256sum | cut -c1-12
}
BASE_PACKAGES="python3,python3-venv,ca-certificates,usr-is-merged"
# mmdebstrap needs usrmerge, which brings perl: gone once the tree is built. Like Debian's own slim
# images, no manuals, translations or documentation besides the copyright files.
BASE_PURGE="libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl perl perl-modules-5.36 libperl5.36"
BASE_DPKG_OPTS=(
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
)

build_base() {  # $1 tag
    local tag="$1" tar="$BASE_CACHE/${1##*:}.tar"
    if "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
        log "base image $tag: cached"
        return 0
    fi
    mkdir -p "$BASE_CACHE"
    if [ ! -s "$tar" ]; then
        log "building the base image from Debian packages ($SUITE, mmdebstrap)"
        local t=$SECONDS mirrors=() aptopts=() f
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
            [ -s "$f" ] && mirrors+=("$f")
        done
        while IFS= read -r f; do aptopts+=(--aptopt="$f"); done \
            < <(apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' | sed 's/$/;/')
        local partial="$BASE_CACHE/partial.tar"  # mmdebstrap picks the format from the extension
        rm -f "$partial"
        mmdebstrap --quiet --variant=minbase --include="$BASE_PACKAGES" "${aptopts[@]}" "${BASE_DPKG_OPTS[@]}" \
            --customize-hook='if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null 2>&1; fi' \
            --customize-hook='if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$1/etc/pip.conf"; fi' \
            --customize-hook="chroot \"\$1\" apt-get purge -y -qq $BASE_PURGE >/dev/null" \
            --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
            "$SUITE" "$partial" "${mirrors[@]}" >&2
        mv "$partial" "$tar"
        log "base tarball built in $((SECONDS - t)) s"
        find "$BASE_CACHE" -name '*.tar' ! -name "${tag##*:}.tar" -delete
    fi
    "$DOCKER" import --change 'CMD ["python3"]' "$tar" "$tag" >/dev/null
    log "base image $tag imported"
}

# --- main --------------------------------------------------------------------
ensure_tools
start_daemon
BASE_TAG="intra-bot-base:$SUITE-$(base_recipe)"
build_base "$BASE_TAG"

log "building the clean-room and runtime images (BASE=$BASE_TAG)"
t=$SECONDS
"$DOCKER" build --quiet --network host --build-arg BASE="$BASE_TAG" --target cleanroom -t "$CLEANROOM" . >/dev/null
"$DOCKER" build --quiet --network host --build-arg BASE="$BASE_TAG" -t "$IMAGE" . >/dev/null
log "images built in $((SECONDS - t)) s"
# The venv was made by the base's own `python3 -m venv` (its bundled pip), then the locked pip.
pips="$("$DOCKER" run --rm --network none "$BASE_TAG" python3 -c 'import ensurepip; print(ensurepip.version())')" \
    || die "the base image's bundled pip"
log "the image's venv started from the base's bundled pip $pips, now $("$DOCKER" run --rm --network none "$IMAGE" pip --version | cut -d' ' -f1-2)"

log "clean room: the fast suites with only the locked dependencies"
t=$SECONDS
timeout 900 "$DOCKER" run --rm --label intra-bot-smoke --network host "$CLEANROOM" \
    || die "the fast suites fail in the clean room (a dependency missing from pyproject.toml?)"
log "clean room passed in $((SECONDS - t)) s"

CHECKS=(python3 scripts/docker/smoke_checks.py --docker "$DOCKER" --image "$IMAGE")
"${CHECKS[@]}" standalone || die "the image's standalone checks"
if [ "$WITH_MATTERMOST" = 1 ]; then
    scripts/mattermost.sh up >&2
    "${CHECKS[@]}" mattermost --env-file <(scripts/mattermost.sh env) || die "the image against the real Mattermost"
fi

"$DOCKER" image prune -f >/dev/null  # the images this build replaced
size="$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")"
log "image $IMAGE: $((size / 1000000)) MB; smoke test done in $((SECONDS - T0)) s"
