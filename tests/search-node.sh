#!/usr/bin/env bash
# Starts or stops the OpenSearch 2.19 nodes the tests index into: a single node for most tests,
# and a two-node cluster for the tests that need replicas and a node that goes away.
#
#   tests/search-node.sh start          # resolves the jars from Maven Central (cached in ~/.m2),
#                                       # starts one node on 127.0.0.1 with a free port, waits for
#                                       # yellow health, prints `SEARCH_URL=http://127.0.0.1:PORT`
#   tests/search-node.sh stop           # stops it by process group
#   tests/search-node.sh cluster-start  # two nodes, each in a JVM of its own, joined by discovery
#                                       # on their own transport ports: node 1 (cluster manager,
#                                       # data, ingest; the HTTP entry) and node 2 (data, ingest).
#                                       # Waits for green with both, prints
#                                       # `SEARCH_CLUSTER_URL=http://127.0.0.1:PORT` (node 1)
#   tests/search-node.sh cluster-stop   # stops both
#   tests/search-node.sh stop-node 2    # kills node 2's process at once (kill -9: a crash)
#   tests/search-node.sh start-node 2   # starts it again on its data (nothing if it runs) and
#                                       # waits until the cluster has both nodes again
#
# Node 2 holds no cluster-manager role, so stopping it never costs the cluster its manager (with
# two eligible nodes, one of them alone would not be a quorum).
#
# Each node runs tests/search-node/SearchNode.java over the runner's classpath. State lives in
# target/search-node/ and target/search-cluster/ (pids, urls, data, logs); SEARCH_NODE_STATE and
# SEARCH_CLUSTER_STATE move them, e.g. to run a node of one's own beside another.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="${SEARCH_NODE_STATE:-$root/target/search-node}"
cluster_state="${SEARCH_CLUSTER_STATE:-$root/target/search-cluster}"
classpath_file="$root/target/search-node-classpath.txt"
source_file="$root/tests/search-node/SearchNode.java"
mkdir -p "$state" "$cluster_state"

classpath() {
  if [[ ! -s "$classpath_file" || "$root/tests/search-node/pom.xml" -nt "$classpath_file" ]]; then
    mvn -q -B -f "$root/tests/search-node/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$classpath_file" >"$root/target/search-node-maven.log" 2>&1 \
      || { cat "$root/target/search-node-maven.log"; echo "search-node: resolving the OpenSearch jars failed" >&2; exit 1; }
  fi
}

# A free port in [lo, hi], picked at random so that parallel runs rarely race for the same one.
# The runner only accepts HTTP ports up to 9299.
free_port() {
  python3 -c '
import random, socket, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
for port in random.sample(range(lo, hi + 1), hi - lo + 1):
    try:
        s = socket.socket(); s.bind(("127.0.0.1", port)); s.close(); print(port); break
    except OSError:
        pass' "$1" "$2"
}

# launch PIDFILE LOG HOME HEAP SETTING... : one node in a process group of its own.
launch() {
  local pidfile=$1 log=$2 home=$3 heap=$4
  shift 4
  SEARCH_NODE_CP=$(cat "$classpath_file") SEARCH_NODE_SRC="$source_file" SEARCH_NODE_HEAP="$heap" \
    setsid bash -c 'exec java -Xms256m -Xmx"$SEARCH_NODE_HEAP" -cp "$SEARCH_NODE_CP" "$SEARCH_NODE_SRC" "$@"' \
    search-node "$home" "$@" </dev/null >"$log" 2>&1 &
  echo $! >"$pidfile"
}

# kill_group PIDFILE [SIGNAL]: ends the process group the pid file names.
kill_group() {
  local pidfile=$1 signal=${2:-TERM}
  if [[ -f "$pidfile" ]]; then
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill "-$signal" -- "-$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  fi
}

# The cluster settings every test node gets: a test node must not refuse writes because the
# machine's disk is nearly full: above the high watermark (90% of the whole disk) OpenSearch
# blocks index creation, at 95% it makes every index read-only, and CI machines cross those
# lines with build outputs alone.
no_watermarks() {
  curl -fsS -XPUT "$1/_cluster/settings" -H 'content-type: application/json' \
    -d '{"persistent":{"cluster.routing.allocation.disk.threshold_enabled":false,"cluster.blocks.create_index":null}}' \
    >/dev/null
}

stop() {
  kill_group "$state/pid"
  rm -f "$state/url"
}

start() {
  stop
  classpath
  local port
  port=$(free_port 9201 9289)
  rm -rf "$state/data"
  launch "$state/pid" "$state/node.log" "$state/data" 1g connector-tests \
    node.name=node-1 http.port="$port" network.host=127.0.0.1 discovery.type=single-node \
    node.roles=cluster_manager,data,ingest cluster.routing.allocation.disk.threshold_enabled=false
  local url="http://127.0.0.1:$port"
  for _ in $(seq 1 240); do
    if curl -fsS "$url/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      no_watermarks "$url" || { echo "search-node: disabling the disk watermarks failed" >&2; stop; exit 1; }
      echo "$url" >"$state/url"
      echo "SEARCH_URL=$url"
      return 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || { tail -40 "$state/node.log"; echo "search-node: the node exited" >&2; exit 1; }
    sleep 0.5
  done
  tail -40 "$state/node.log"
  echo "search-node: no yellow health after 120 s" >&2
  stop
  exit 1
}

cluster_stop() {
  kill_group "$cluster_state/node-2.pid"
  kill_group "$cluster_state/node-1.pid"
  rm -f "$cluster_state/url"
}

# node_settings N: the settings of cluster node N, from the ports saved by cluster-start.
node_settings() {
  local n=$1
  # shellcheck disable=SC1091
  source "$cluster_state/ports"
  local http transport roles
  if [[ $n == 1 ]]; then http=$HTTP1 transport=$TRANSPORT1 roles=cluster_manager,data,ingest
  else http=$HTTP2 transport=$TRANSPORT2 roles=data,ingest; fi
  echo node.name=cluster-node-"$n" http.port="$http" transport.port="$transport" \
    network.host=127.0.0.1 discovery.seed_hosts=127.0.0.1:"$TRANSPORT1",127.0.0.1:"$TRANSPORT2" \
    cluster.initial_cluster_manager_nodes=cluster-node-1 node.roles="$roles" \
    cluster.routing.allocation.disk.threshold_enabled=false
}

launch_cluster_node() {
  local n=$1
  # shellcheck disable=SC2046
  launch "$cluster_state/node-$n.pid" "$cluster_state/node-$n.log" "$cluster_state/data-$n" 512m \
    connector-cluster-tests $(node_settings "$n")
}

# wait_cluster STATUS: until node 1 answers with both nodes and at least STATUS.
wait_cluster() {
  local url
  url="http://127.0.0.1:$(source "$cluster_state/ports"; echo "$HTTP1")"
  for _ in $(seq 1 360); do
    if curl -fsS "$url/_cluster/health?wait_for_nodes=2&wait_for_status=$1&timeout=1s" >/dev/null 2>&1; then
      echo "$url"
      return 0
    fi
    for n in 1 2; do
      running "$cluster_state/node-$n.pid" \
        || { tail -40 "$cluster_state/node-$n.log" >&2; echo "search-node: cluster node $n exited" >&2; return 1; }
    done
    sleep 0.5
  done
  tail -20 "$cluster_state/node-1.log" "$cluster_state/node-2.log" >&2
  echo "search-node: the cluster has no $1 health with two nodes after 180 s" >&2
  return 1
}

cluster_start() {
  cluster_stop
  classpath
  local http1 http2 transport1 transport2
  http1=$(free_port 9201 9289)
  http2=$(free_port 9201 9289)
  while [[ $http2 == "$http1" ]]; do http2=$(free_port 9201 9289); done
  # Transport ports outside 9300-9400, where a single node's transport (and the default
  # discovery of other nodes on this machine) lives.
  transport1=$(free_port 9500 9599)
  transport2=$(free_port 9500 9599)
  while [[ $transport2 == "$transport1" ]]; do transport2=$(free_port 9500 9599); done
  printf 'HTTP1=%s\nHTTP2=%s\nTRANSPORT1=%s\nTRANSPORT2=%s\n' "$http1" "$http2" "$transport1" "$transport2" \
    >"$cluster_state/ports"
  rm -rf "$cluster_state"/data-*
  launch_cluster_node 1
  launch_cluster_node 2
  local url
  url=$(wait_cluster green) || { cluster_stop; exit 1; }
  no_watermarks "$url" || { echo "search-node: disabling the disk watermarks failed" >&2; cluster_stop; exit 1; }
  echo "$url" >"$cluster_state/url"
  echo "SEARCH_CLUSTER_URL=$url"
}

stop_node() {
  kill_group "$cluster_state/node-$1.pid" KILL
}

# running PIDFILE: whether the process the pid file names is alive.
running() {
  [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

start_node() {
  local n=$1
  if running "$cluster_state/node-$n.pid"; then
    return 0
  fi
  launch_cluster_node "$n"
  wait_cluster yellow >/dev/null
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop ;;
  stop-node) stop_node "${2:?node number}" ;;
  start-node) start_node "${2:?node number}" ;;
  *) echo "usage: $0 start|stop|cluster-start|cluster-stop|stop-node N|start-node N" >&2; exit 2 ;;
esac
