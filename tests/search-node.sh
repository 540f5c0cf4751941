#!/usr/bin/env bash
# Starts or stops the single OpenSearch 2.19 node the tests index into.
#
#   tests/search-node.sh start   # resolves the jars from Maven Central (cached in ~/.m2), starts the
#                                # node on 127.0.0.1 with a free port, waits for yellow health and
#                                # prints `SEARCH_URL=http://127.0.0.1:PORT`
#   tests/search-node.sh stop    # stops it by PID
#
# State lives in target/search-node/ (pid, url, data, log).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/target/search-node"
mkdir -p "$state"

stop() {
  if [[ -f "$state/pid" ]]; then
    pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$state/pid" "$state/url"
  fi
}

start() {
  stop
  if [[ ! -s "$state/classpath.txt" || "$root/tests/search-node/pom.xml" -nt "$state/classpath.txt" ]]; then
    mvn -q -B -f "$root/tests/search-node/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$state/classpath.txt" >"$state/maven.log" 2>&1 \
      || { cat "$state/maven.log"; echo "search-node: resolving the OpenSearch jars failed" >&2; exit 1; }
  fi
  # The runner takes the first free HTTP port above the base it is given, up to 9299; start the
  # search at a random place in that range so that parallel runs rarely race for the same port.
  base=$(python3 -c '
import random, socket
for port in random.sample(range(9201, 9290), 89):
    try:
        s = socket.socket(); s.bind(("127.0.0.1", port)); s.close(); print(port - 1); break
    except OSError:
        pass')
  rm -rf "$state/data"
  # The runner stops when its standard input closes, so it reads from a pipe that stays open; both
  # run in a process group of their own, which `stop` ends as a whole.
  SEARCH_NODE_CP=$(cat "$state/classpath.txt") SEARCH_NODE_DIR="$state/data" SEARCH_NODE_BASE="$base" \
    setsid bash -c 'sleep infinity | exec java -Xms512m -Xmx1g \
      -cp "$SEARCH_NODE_CP" org.codelibs.opensearch.runner.OpenSearchRunner \
      -basePath "$SEARCH_NODE_DIR" -numOfNode 1 -baseHttpPort "$SEARCH_NODE_BASE" \
      -clusterName connector-tests -printOnFailure' </dev/null >"$state/node.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 1 240); do
    port=$(grep -oE 'publish_address \{127\.0\.0\.1:[0-9]+\}' "$state/node.log" 2>/dev/null \
      | grep -v ':93[0-9][0-9]' | tail -1 | grep -oE '[0-9]+\}$' | tr -d '}' || true)
    if [[ -n "${port:-}" ]] && curl -fsS "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      # A test node must not refuse writes because the machine's disk is nearly full: above the
      # high watermark (90% of the whole disk) OpenSearch blocks index creation, at 95% it makes
      # every index read-only, and CI machines cross those lines with build outputs alone.
      curl -fsS -XPUT "http://127.0.0.1:$port/_cluster/settings" -H 'content-type: application/json' \
        -d '{"persistent":{"cluster.routing.allocation.disk.threshold_enabled":false,"cluster.blocks.create_index":null}}' \
        >/dev/null || { echo "search-node: disabling the disk watermarks failed" >&2; stop; exit 1; }
      echo "http://127.0.0.1:$port" >"$state/url"
      echo "SEARCH_URL=http://127.0.0.1:$port"
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

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
