#!/usr/bin/env bash
# Starts or stops the text extraction services the tests send attachments to: Apache Tika 3.x's
# server API and Elastic's data extraction service API, both answered by one JVM over Tika's
# parsers (tests/tika/TikaServer.java).
#
#   tests/tika.sh start   # resolves Tika from Maven Central (cached in ~/.m2), starts it on
#                         # 127.0.0.1 with a free port, waits for `GET /tika` and prints
#                         # `TIKA_URL=http://127.0.0.1:PORT` (Tika's `PUT /tika` and Elastic's
#                         # `PUT /extract_text/` are both there)
#   tests/tika.sh stop    # stops it by process group
#
# State lives in target/tika/ (pid, url, classpath, log). See tests/tika/pom.xml for why the
# server is tests/tika/TikaServer.java over Tika's parsers rather than the tika-server jar.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/target/tika"
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
  if [[ ! -s "$state/classpath.txt" || "$root/tests/tika/pom.xml" -nt "$state/classpath.txt" ]]; then
    mvn -q -B -f "$root/tests/tika/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$state/classpath.txt" >"$state/maven.log" 2>&1 \
      || { cat "$state/maven.log"; echo "tika: resolving the Tika jars failed" >&2; exit 1; }
  fi
  port=$(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  TIKA_CP=$(cat "$state/classpath.txt") TIKA_SRC="$root/tests/tika/TikaServer.java" TIKA_PORT="$port" \
    setsid bash -c 'exec java -Xms128m -Xmx1g -Djava.awt.headless=true \
      -cp "$TIKA_CP" "$TIKA_SRC" "$TIKA_PORT"' </dev/null >"$state/tika.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$port/tika" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port" >"$state/url"
      echo "TIKA_URL=http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$(cat "$state/pid")" 2>/dev/null || { tail -40 "$state/tika.log"; echo "tika: the server exited" >&2; exit 1; }
    sleep 0.5
  done
  tail -40 "$state/tika.log"
  echo "tika: no answer on /tika after 120 s" >&2
  stop
  exit 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
