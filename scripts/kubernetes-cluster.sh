#!/usr/bin/env bash
# A real single-node Kubernetes 1.20.2 on this machine, for the Kubernetes suite (test/kubernetes).
#
#   scripts/kubernetes-cluster.sh build        the four binaries, built once from Debian's source package
#   scripts/kubernetes-cluster.sh up           build if needed, start the cluster, print the kubeconfig path last
#   scripts/kubernetes-cluster.sh load-image T copy image T from the Docker engine into the cluster's runtime
#   scripts/kubernetes-cluster.sh down         stop everything `up` started and remove what it left
#   scripts/kubernetes-cluster.sh kubeconfig   print the kubeconfig path (when up)
#
# Why it is built from source: no image registry and no Go module proxy are reachable here, but
# Debian bookworm ships the Kubernetes 1.20.2 source with its dependencies vendored, and Go 1.19.
# The binaries go to $LTK_TOOLS_DIR/kubernetes-1.20.2/bin (default /opt/lambda-testkit-tools), so a
# later run on the same machine reuses them (the 3 GB build tree is deleted).
#
# What runs, all on 127.0.0.1 (fixed ports, see below): etcd (Debian's etcd-server), kube-apiserver,
# kube-controller-manager, kube-scheduler, a kubelet, and a containerd of its OWN (config, root, state
# and socket under this script's folders): the containerd that dockerd uses is never touched. Pods get
# addresses from the CNI bridge plugin on the bridge `ltk-cni0` (10.244.77.0/24).
#
# `down` deletes every Pod (so the CNI plugins undo their network set-up), stops every process `up`
# started by its pid, unmounts what the kubelet and containerd mounted, removes the bridge, the
# iptables chains and network namespaces that were not there before, restores the kernel settings the
# kubelet changes (kernel.panic, kernel.panic_on_oops, vm.overcommit_memory) and removes the folders.
set -euo pipefail

K8S_VERSION=1.20.2
TOOLS="${LTK_TOOLS_DIR:-/opt/lambda-testkit-tools}"
BIN_DIR="$TOOLS/kubernetes-$K8S_VERSION"
STATE="${LTK_K8S_STATE:-/var/lib/lambda-testkit-k8s}"
RUN_DIR=/run/lambda-testkit-k8s
CTR_SOCK="$RUN_DIR/containerd.sock"
BRIDGE=ltk-cni0
POD_SUBNET=10.244.77.0/24
CNI_NET=lambda-testkit
ETCD_PORT=12379
ETCD_PEER_PORT=12380
API_PORT=16443
KUBELET_PORT=11250
KUBELET_HEALTHZ_PORT=11248
KCM_PORT=11257
SCHED_PORT=11259
PAUSE_IMAGE=lambda-testkit/pause:3.2
BINS=(kube-apiserver kubelet kube-controller-manager kube-scheduler)
SYSCTLS=(kernel/panic kernel/panic_on_oops vm/overcommit_memory)
# Written next to the binaries by a build that has every fix below; binaries without it are rebuilt.
BUILD_STAMP="kubernetes $K8S_VERSION, go 1.19, vendored modern-go/reflect2 replaced by Debian's 1.0.2"

log() { printf '[kubernetes-cluster] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------------
build() {
  local missing=0 b
  for b in "${BINS[@]}"; do [ -x "$BIN_DIR/bin/$b" ] || missing=1; done
  [ -f "$BIN_DIR/pause.c" ] || missing=1
  grep -qx "$BUILD_STAMP" "$BIN_DIR/BUILD-INFO" 2>/dev/null || missing=1
  if [ "$missing" = 0 ]; then log "Kubernetes $K8S_VERSION binaries found in $BIN_DIR/bin"; return 0; fi
  log "building Kubernetes $K8S_VERSION from Debian's source package (once per machine, ~15 minutes on 2 cores)"
  if [ ! -f /etc/apt/sources.list.d/lambda-testkit-bookworm-src.sources ]; then
    cat > /etc/apt/sources.list.d/lambda-testkit-bookworm-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-1.19-go rsync dpkg-dev golang-github-modern-go-reflect2-dev >/dev/null
  local work src
  work="$(mktemp -d /tmp/ltk-k8s-build.XXXXXX)"
  (cd "$work" && apt-get source -qq kubernetes >/dev/null)
  src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -1)"
  [ -n "$src" ] || die "apt-get source kubernetes unpacked nothing in $work"
  # The vendored modern-go/reflect2 1.0.1 links to a Go runtime function whose signature changed in
  # Go 1.18: built with Go 1.19, the API server dies with "fatal error: fault" in mapiterinit when it
  # encodes a map (json-iterator). reflect2 1.0.2 fixes it; Debian ships it as source, so it replaces
  # the vendored copy (no module proxy needed; -mod=vendor does not hash vendored files).
  local reflect2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [ -f "$reflect2/unsafe_map.go" ] || die "Debian's golang-github-modern-go-reflect2-dev is not installed"
  rm -rf "$src/vendor/github.com/modern-go/reflect2"
  cp -r "$reflect2" "$src/vendor/github.com/modern-go/reflect2"
  (cd "$src" && PATH=/usr/lib/go-1.19/bin:$PATH nice -n 19 make WHAT="cmd/kube-apiserver cmd/kubelet cmd/kube-controller-manager cmd/kube-scheduler")
  mkdir -p "$BIN_DIR/bin"
  for b in "${BINS[@]}"; do cp "$src/_output/bin/$b" "$BIN_DIR/bin/$b.tmp" && mv "$BIN_DIR/bin/$b.tmp" "$BIN_DIR/bin/$b"; done
  cp "$src/build/pause/linux/pause.c" "$BIN_DIR/pause.c"
  echo "$BUILD_STAMP" > "$BIN_DIR/BUILD-INFO"
  rm -rf "$work"
  log "built: $BIN_DIR/bin"
}

# Debian packages the cluster runs on (containerd is already there: dockerd's package depends on it).
ensure_packages() {
  local want=() p
  command -v etcd >/dev/null 2>&1 || want+=(etcd-server)
  [ -x /usr/lib/cni/bridge ] || want+=(containernetworking-plugins)
  command -v containerd >/dev/null 2>&1 || want+=(containerd)
  command -v gcc >/dev/null 2>&1 || want+=(gcc libc6-dev)
  command -v openssl >/dev/null 2>&1 || want+=(openssl)
  command -v curl >/dev/null 2>&1 || want+=(curl)
  if [ "${#want[@]}" -gt 0 ]; then
    log "installing ${want[*]} from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
  fi
  for p in etcd containerd ctr runc containerd-shim-runc-v2 gcc openssl curl iptables ip docker; do
    command -v "$p" >/dev/null 2>&1 || die "$p is missing"
  done
}

# ---------------------------------------------------------------------------------------------------
pki() {
  local d="$STATE/pki"
  [ -f "$d/admin.crt" ] && return 0
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=lambda-testkit-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile apiserver.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=lambda-testkit-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  cat > "$STATE/admin.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: lambda-testkit
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 < "$d/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 < "$d/admin.crt")
    client-key-data: $(base64 -w0 < "$d/admin.key")
contexts:
- name: lambda-testkit
  context: { cluster: lambda-testkit, user: admin }
current-context: lambda-testkit
KC
  chmod 600 "$STATE/admin.kubeconfig"
}

# Starts "$@" in the background, its output to $STATE/log/NAME.log, its pid to $STATE/pids/NAME.
start() {
  local name=$1; shift
  mkdir -p "$STATE/log" "$STATE/pids"
  setsid "$@" >"$STATE/log/$name.log" 2>&1 < /dev/null &
  echo $! > "$STATE/pids/$name"
}

alive() { [ -f "$STATE/pids/$1" ] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }

# Waits up to $2 seconds for command "${@:3}" to succeed; the cluster's logs explain a failure.
wait_for() {
  local what=$1 secs=$2 i; shift 2
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  log "timed out after ${secs}s waiting for $what; last lines of the logs:"
  for f in "$STATE"/log/*.log; do echo "--- $f" >&2; tail -15 "$f" >&2; done
  return 1
}

api() {
  curl -sf --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" "$@"
}

ctr_() { ctr --address "$CTR_SOCK" -n k8s.io "$@"; }

node_ready() {
  api "https://127.0.0.1:$API_PORT/api/v1/nodes/localhost" | grep -q '"type": "Ready",[[:space:]]*"status": "True"' ||
    api "https://127.0.0.1:$API_PORT/api/v1/nodes/localhost" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'
}

default_sa() { api "https://127.0.0.1:$API_PORT/api/v1/namespaces/default/serviceaccounts/default" | grep -q '"secrets"'; }

# What was there before `up`, so that `down` removes only what the cluster added.
snapshot_host() {
  local s
  [ -f "$STATE/host/sysctl" ] && return 0
  mkdir -p "$STATE/host"
  for s in "${SYSCTLS[@]}"; do echo "$s $(cat "/proc/sys/$s")"; done > "$STATE/host/sysctl"
  for t in filter nat mangle; do iptables -t "$t" -S | awk '$1=="-N"{print $2}'; done | sort -u > "$STATE/host/chains"
  ls /var/run/netns 2>/dev/null | sort > "$STATE/host/netns" || true
  for p in /var/log/pods /var/lib/cni /var/lib/kubelet /etc/cni; do [ -e "$p" ] && echo "$p"; done > "$STATE/host/paths" || true
}

up() {
  build
  ensure_packages
  if alive kube-apiserver && alive kubelet && node_ready; then
    log "already up"; kubeconfig; return 0
  fi
  # A half-started cluster from an earlier `up` is taken down first.
  if [ -d "$STATE/pids" ]; then down; fi
  mkdir -p "$STATE" "$RUN_DIR"
  snapshot_host
  pki

  # Pause image for Pod sandboxes, from the Kubernetes source (no registry).
  if ! docker image inspect "$PAUSE_IMAGE" >/dev/null 2>&1; then
    local pdir; pdir="$(mktemp -d)"
    gcc -Os -static -DVERSION=v3.2-lambda-testkit -o "$pdir/pause" "$BIN_DIR/pause.c"
    tar -C "$pdir" -c pause | docker import -c 'ENTRYPOINT ["/pause"]' - "$PAUSE_IMAGE" >/dev/null
    rm -rf "$pdir"
  fi

  # containerd of its own.
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/bin-cache"
  cat > "$STATE/containerd/config.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$RUN_DIR/containerd-state"
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE (this sandbox) runc cannot lower oom_score_adj: no Pod would start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$RUN_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
TOML
  cat > "$STATE/cni/net.d/10-lambda-testkit.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
CNI
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for "containerd" 30 ctr_ version
  ctr_ images ls -q | grep -q "docker.io/$PAUSE_IMAGE" || docker save "$PAUSE_IMAGE" | ctr_ images import - >/dev/null

  local pki="$STATE/pki"
  start etcd etcd --name lambda-testkit --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "lambda-testkit=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" 
  start kube-apiserver "$BIN_DIR/bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$API_PORT" --insecure-port 0 --endpoint-reconciler-type none \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.96.0.0/24 \
    --authorization-mode Node,RBAC --kubelet-client-certificate "$pki/admin.crt" --kubelet-client-key "$pki/admin.key" \
    --kubelet-preferred-address-types Hostname --allow-privileged=false
  wait_for "kube-apiserver" 90 api "https://127.0.0.1:$API_PORT/readyz"

  start kube-controller-manager "$BIN_DIR/bin/kube-controller-manager" --kubeconfig "$STATE/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --port 0 --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --authentication-kubeconfig "$STATE/admin.kubeconfig" --authorization-kubeconfig "$STATE/admin.kubeconfig"
  start kube-scheduler "$BIN_DIR/bin/kube-scheduler" --kubeconfig "$STATE/admin.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --port 0 --leader-elect=false \
    --authentication-kubeconfig "$STATE/admin.kubeconfig" --authorization-kubeconfig "$STATE/admin.kubeconfig"
  start kubelet "$BIN_DIR/bin/kubelet" --kubeconfig "$STATE/admin.kubeconfig" \
    --container-runtime remote --container-runtime-endpoint "unix://$CTR_SOCK" \
    --cgroup-driver cgroupfs --fail-swap-on=false --hostname-override localhost \
    --address 127.0.0.1 --port "$KUBELET_PORT" --healthz-bind-address 127.0.0.1 --healthz-port "$KUBELET_HEALTHZ_PORT" \
    --read-only-port 0 --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet-pki" \
    --anonymous-auth=false --client-ca-file "$pki/ca.crt" --authorization-mode AlwaysAllow \
    --make-iptables-util-chains=false --image-gc-high-threshold 100 --image-gc-low-threshold 99 \
    --eviction-hard 'memory.available<1Mi,nodefs.available<1%,imagefs.available<1%' \
    --serialize-image-pulls=false --pod-max-pids -1 --max-pods 60
  wait_for "the node to be Ready" 120 node_ready
  wait_for "the default service account" 60 default_sa
  log "up: $(cat "$STATE"/pids/* | tr '\n' ' ')(pids)"
  kubeconfig
}

kubeconfig() { echo "$STATE/admin.kubeconfig"; }

load_image() {
  local image=$1
  [ -S "$CTR_SOCK" ] || die "the cluster is not up (no $CTR_SOCK): run $0 up first"
  docker save "$image" | ctr_ images import - >/dev/null
  log "loaded $image into the cluster's containerd"
}

# ---------------------------------------------------------------------------------------------------
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}

down() {
  [ -d "$STATE" ] || { log "not up (no $STATE)"; return 0; }
  # 1. Every Pod deleted through the API while the kubelet still runs: CNI DEL undoes the network set-up.
  if alive kube-apiserver && alive kubelet; then
    local ns
    for ns in $(api "https://127.0.0.1:$API_PORT/api/v1/namespaces" | tr -d ' ' | grep -o '"name":"[^"]*"' | cut -d'"' -f4 | sort -u); do
      api -X DELETE "https://127.0.0.1:$API_PORT/api/v1/namespaces/$ns/pods?gracePeriodSeconds=0" >/dev/null 2>&1 || true
    done
    wait_for "the Pods to be gone" 60 sh -c "! ctr --address '$CTR_SOCK' -n k8s.io tasks ls -q | grep -q ." || true
  fi
  # 2. The processes `up` started, by pid, the kubelet first.
  local name
  for name in kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$STATE/pids/$name" ] && stop_pid "$(cat "$STATE/pids/$name")"
  done
  # Containers still running (a Pod the API could not delete): killed through our containerd.
  if [ -f "$STATE/pids/containerd" ] && alive containerd; then
    local t
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 1
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
    stop_pid "$(cat "$STATE/pids/containerd")"
  fi
  # Shims of our containerd (their command line names our socket), by pid.
  local pid
  for pid in $(grep -l -a -F "$CTR_SOCK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do stop_pid "$pid"; done
  # 3. Mounts under our folders (secret volumes, overlay roots, shm), deepest first.
  local m
  for m in $(awk '{print $2}' /proc/mounts | grep -E "^($STATE|$RUN_DIR)/" | sort -r); do umount -l "$m" 2>/dev/null || true; done
  # 4. Network: namespaces, bridge and iptables chains that were not there before `up`.
  if [ -f "$STATE/host/netns" ]; then
    for m in $(ls /var/run/netns 2>/dev/null | grep '^cni-' || true); do
      grep -qx "$m" "$STATE/host/netns" || ip netns delete "$m" 2>/dev/null || true
    done
  fi
  ip link delete "$BRIDGE" 2>/dev/null || true
  if [ -f "$STATE/host/chains" ]; then
    local t c
    for t in filter nat mangle; do
      for c in $(iptables -t "$t" -S | awk '$1=="-N"{print $2}' | grep -E '^(CNI-|KUBE-)' || true); do
        grep -qx "$c" "$STATE/host/chains" && continue
        # Rules jumping to the chain, then the chain.
        iptables -t "$t" -S | grep -E -- "-j $c( |\$)" | sed 's/^-A/-D/' | while read -r rule; do
          eval "iptables -t $t $rule" 2>/dev/null || true
        done
        iptables -t "$t" -F "$c" 2>/dev/null || true
        iptables -t "$t" -X "$c" 2>/dev/null || true
      done
    done
  fi
  # 5. Kernel settings the kubelet changed.
  if [ -f "$STATE/host/sysctl" ]; then
    local key value
    while read -r key value; do echo "$value" > "/proc/sys/$key" 2>/dev/null || true; done < "$STATE/host/sysctl"
  fi
  # 6. Folders: ours, and the kubelet's fixed ones that were not there before.
  for m in /var/log/pods /var/lib/cni /var/lib/kubelet; do
    if [ -f "$STATE/host/paths" ] && ! grep -qx "$m" "$STATE/host/paths"; then rm -rf "$m"; fi
  done
  rm -rf "$RUN_DIR" "$STATE"
  log "down: processes stopped, network and folders removed, kernel settings restored"
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  kubeconfig) kubeconfig ;;
  load-image) [ -n "${2:-}" ] || die "usage: $0 load-image IMAGE"; load_image "$2" ;;
  *) die "usage: $0 build|up|down|kubeconfig|load-image IMAGE" ;;
esac
