#!/usr/bin/env bash
# Local infrastructure for Folio: a single-node Apache Kafka broker (KRaft) run from Maven Central jars,
# plus reachability checks for PostgreSQL and Redis (those are expected to run already).
#
#   bash infra/infra.sh up            fetch Kafka jars (cached), start the broker, check PostgreSQL and Redis
#   bash infra/infra.sh down [--wipe] stop the broker (--wipe also deletes its data in .data/kafka)
#   bash infra/infra.sh status        one line per dependency; exit 0 only if all are up
#
# Environment: KAFKA_BROKERS (default 127.0.0.1:9092; first entry used), KAFKA_CONTROLLER_PORT (9093),
# PGHOST (127.0.0.1), PGPORT (5432), REDIS_URL (redis://127.0.0.1:6379), JAVA_HOME or JAVA,
# KAFKA_START_TIMEOUT (seconds, default 90).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

KAFKA_CONF_DIR="$ROOT/infra/kafka"
POM="$KAFKA_CONF_DIR/pom.xml"
LOG4J_CONF="$KAFKA_CONF_DIR/log4j2.properties"
LIBS_DIR="$ROOT/.cache/kafka/libs"
LIBS_MARKER="$LIBS_DIR/.pom.sha256"
DATA_DIR="$ROOT/.data/kafka"
PROPS="$DATA_DIR/server.properties"
PID_FILE="$DATA_DIR/kafka.pid"
SERVER_LOG="$DATA_DIR/server.log"
CLUSTER_ID_FILE="$DATA_DIR/cluster.id"

KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
KAFKA_ADDR="${KAFKA_BROKERS%%,*}"
KAFKA_ADDR="${KAFKA_ADDR#*://}"
KAFKA_HOST="${KAFKA_ADDR%:*}"
KAFKA_PORT="${KAFKA_ADDR##*:}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"

REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
_redis_rest="${REDIS_URL#*://}"
_redis_rest="${_redis_rest##*@}"
_redis_rest="${_redis_rest%%/*}"
REDIS_HOST="${_redis_rest%:*}"
REDIS_PORT="6379"
[[ "$_redis_rest" == *:* ]] && REDIS_PORT="${_redis_rest##*:}"

if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA="java"; fi

log() { echo "infra: $*"; }
err() { echo "infra: $*" >&2; }

# ---------------------------------------------------------------------------------------------- helpers

# True if something accepts TCP connections at host:port (bash /dev/tcp, 2 s timeout).
port_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

is_local_host() {
  case "$1" in 127.* | localhost | ::1 | "$(hostname 2>/dev/null || true)") return 0 ;; *) return 1 ;; esac
}

require_java() {
  if ! command -v "$JAVA" >/dev/null 2>&1; then
    err "Java is not installed (Kafka 4 needs Java 17+; e.g. apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME)"
    exit 1
  fi
}

# Run a Kafka CLI class from the cached jars (short-lived JVM tuned for start-up time).
kafka_class() {
  "$JAVA" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J_CONF" -cp "$LIBS_DIR/*" "$@"
}

kafka_version() {
  local jar
  jar="$(compgen -G "$LIBS_DIR/kafka_2.13-*.jar" | head -n 1 || true)"
  jar="${jar##*/kafka_2.13-}"
  echo "${jar%.jar}"
}

libs_present() { [[ -f "$LIBS_MARKER" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null; }

# True if the broker at KAFKA_HOST:KAFKA_PORT answers an ApiVersions request.
# Uses org.apache.kafka.tools.BrokerApiVersionsCommand (a real Kafka client) when the jars are cached,
# otherwise a raw ApiVersions v0 request over /dev/tcp.
kafka_answers() {
  port_open "$KAFKA_HOST" "$KAFKA_PORT" || return 1
  if libs_present && command -v "$JAVA" >/dev/null 2>&1; then
    local out
    out="$(timeout 30 "$JAVA" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
      "-Dlog4j2.configurationFile=$LOG4J_CONF" -cp "$LIBS_DIR/*" \
      org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" \
      2>/dev/null)" || return 1
    grep -q '(id: ' <<<"$out"
  else
    kafka_raw_api_versions
  fi
}

# ApiVersions v0 request: size=15, api_key=18, api_version=0, correlation_id=0x0f011105, client_id="infra".
# A broker answers with the same correlation id and error_code 0.
kafka_raw_api_versions() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x0f\x01\x11\x05\x00\x05infra" >&3
    head -c 10 <&3 | od -An -tx1 | tr -d " \n"
  ' _ "$KAFKA_HOST" "$KAFKA_PORT" 2>/dev/null | grep -Eq '^[0-9a-f]{8}0f0111050000$'
}

pid_alive() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled pid: it must be our broker.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

show_log_tail() {
  if [[ -f "$SERVER_LOG" ]]; then
    err "last 40 lines of $SERVER_LOG:"
    tail -n 40 "$SERVER_LOG" | sed 's/^/    /' >&2
  fi
}

# -------------------------------------------------------------------------------------- jars (Maven)

fetch_jars() {
  local want have=""
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  [[ -f "$LIBS_MARKER" ]] && have="$(cat "$LIBS_MARKER")"
  if [[ "$want" == "$have" ]] && libs_present; then
    log "Kafka $(kafka_version) jars cached in .cache/kafka/libs ($(ls "$LIBS_DIR" | wc -l) jars)"
    return 0
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    err "Maven (mvn) is not installed; it is needed once to fetch the Kafka jars (apt-get install -y maven)"
    exit 1
  fi
  log "fetching Kafka jars with Maven (infra/kafka/pom.xml changed or no cache yet) ..."
  local tmp="$ROOT/.cache/kafka/libs.tmp.$$" start=$SECONDS
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # (sed strips the ANSI reset codes Maven 3.8 prints even in batch mode)
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    "-DoutputDirectory=$tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; then
    rm -rf "$tmp"
    err "Maven could not fetch the Kafka jars (see output above)"
    exit 1
  fi
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "fetched Kafka $(kafka_version): $(ls "$LIBS_DIR" | wc -l) jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $((SECONDS - start)) s"
}

# ------------------------------------------------------------------------------------- broker start

render_props() {
  mkdir -p "$DATA_DIR/data"
  sed -e "s#@KAFKA_HOST@#$KAFKA_HOST#g" -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" \
    -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" -e "s#@LOG_DIR@#$DATA_DIR/data#g" \
    "$KAFKA_CONF_DIR/server.properties.template" >"$PROPS"
}

format_storage() {
  local id=""
  if [[ -f "$CLUSTER_ID_FILE" ]]; then
    id="$(cat "$CLUSTER_ID_FILE")"
  elif [[ -f "$DATA_DIR/data/meta.properties" ]]; then
    id="$(sed -n 's/^cluster\.id=//p' "$DATA_DIR/data/meta.properties")"
  fi
  if [[ -z "$id" ]]; then
    id="$(kafka_class kafka.tools.StorageTool random-uuid 2>>"$SERVER_LOG" | tail -n 1)"
    [[ -n "$id" ]] || { err "kafka.tools.StorageTool random-uuid failed"; show_log_tail; exit 1; }
  fi
  echo "$id" >"$CLUSTER_ID_FILE"
  if [[ -f "$DATA_DIR/data/meta.properties" ]]; then
    log "storage already formatted (cluster id $id)"
    return 0
  fi
  log "formatting storage in .data/kafka (cluster id $id)"
  if ! kafka_class kafka.tools.StorageTool format -t "$id" -c "$PROPS" --ignore-formatted >>"$SERVER_LOG" 2>&1; then
    err "kafka.tools.StorageTool format failed"
    show_log_tail
    exit 1
  fi
}

rotate_log() {
  if [[ -f "$SERVER_LOG" ]]; then mv -f "$SERVER_LOG" "$SERVER_LOG.1"; fi
  : >"$SERVER_LOG"
}

start_broker() {
  rm -f "$PID_FILE"
  log "starting Kafka $(kafka_version) broker on $KAFKA_HOST:$KAFKA_PORT (log: .data/kafka/server.log)"
  # setsid: own session, so Ctrl-C on this script or the end of a CI step's process group does not kill it.
  # The inner bash writes its own pid and execs java, so the pid file holds the JVM's pid.
  nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
    "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS" \
    >>"$SERVER_LOG" 2>&1 </dev/null 9>&- &
  local i
  for i in $(seq 1 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
}

wait_for_broker() {
  local start=$SECONDS
  log "waiting for the broker to accept clients (up to ${KAFKA_START_TIMEOUT} s) ..."
  while true; do
    if ! pid_alive; then
      err "Kafka broker exited during start-up"
      show_log_tail
      exit 1
    fi
    if kafka_answers; then
      log "Kafka is up at $KAFKA_HOST:$KAFKA_PORT (pid $(cat "$PID_FILE"), ready after $((SECONDS - start)) s)"
      return 0
    fi
    if ((SECONDS - start >= KAFKA_START_TIMEOUT)); then
      err "Kafka broker did not accept clients within ${KAFKA_START_TIMEOUT} s (pid $(cat "$PID_FILE" 2>/dev/null || echo '?') left running; 'bash infra/infra.sh down' stops it)"
      show_log_tail
      exit 1
    fi
    sleep 1
  done
}

# ---------------------------------------------------------------------------------- PostgreSQL/Redis

pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PGHOST" -p "$PGPORT" -t 3 >/dev/null 2>&1
  else
    port_open "$PGHOST" "$PGPORT"
  fi
}

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 5 redis-cli -u "$REDIS_URL" --no-auth-warning ping 2>/dev/null)" == "PONG" ]]
  else
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "PING\r\n" >&3
      head -c 5 <&3
    ' _ "$REDIS_HOST" "$REDIS_PORT" 2>/dev/null | grep -q '^+PONG'
  fi
}

PG_HINT="set PGHOST/PGPORT, or start it: sudo service postgresql start; install: apt-get install -y postgresql"
REDIS_HINT="set REDIS_URL, or start it: redis-server --daemonize yes; install: apt-get install -y redis-server"

check_services() {
  local missing=0
  if pg_up; then
    log "PostgreSQL is up at $PGHOST:$PGPORT"
  else
    err "PostgreSQL is not reachable at $PGHOST:$PGPORT ($PG_HINT)"
    missing=1
  fi
  if redis_up; then
    log "Redis is up at $REDIS_HOST:$REDIS_PORT"
  else
    err "Redis is not reachable at $REDIS_HOST:$REDIS_PORT ($REDIS_HINT)"
    missing=1
  fi
  return "$missing"
}

# ----------------------------------------------------------------------------------------- commands

lock() {
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  if ! flock -w 120 9; then
    err "another infra.sh up/down is running (lock $DATA_DIR/.lock)"
    exit 1
  fi
}

cmd_up() {
  local start=$SECONDS
  require_java
  lock
  fetch_jars
  if kafka_answers; then
    log "Kafka is already running at $KAFKA_HOST:$KAFKA_PORT"
  elif pid_alive; then
    log "Kafka broker (pid $(cat "$PID_FILE")) is still starting"
    wait_for_broker
  elif ! is_local_host "$KAFKA_HOST"; then
    err "Kafka is not reachable at $KAFKA_HOST:$KAFKA_PORT, and infra.sh only starts a broker on this machine (set KAFKA_BROKERS=127.0.0.1:9092 or start that broker)"
    exit 1
  elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    err "port $KAFKA_HOST:$KAFKA_PORT is in use by something that does not answer as a Kafka broker (free it or set KAFKA_BROKERS)"
    exit 1
  else
    render_props
    rotate_log
    format_storage
    start_broker
    wait_for_broker
  fi
  exec 9>&-
  if ! check_services; then
    err "up: Kafka is running, but some dependencies are missing (see above)"
    exit 1
  fi
  log "all dependencies are up ($((SECONDS - start)) s)"
}

cmd_down() {
  local wipe=0 arg
  for arg in "$@"; do
    case "$arg" in
      --wipe) wipe=1 ;;
      *) err "down: unknown option $arg (usage: infra.sh down [--wipe])"; exit 2 ;;
    esac
  done
  if [[ ! -d "$DATA_DIR" ]]; then
    log "Kafka is not running (no .data/kafka)"
    return 0
  fi
  lock
  if pid_alive; then
    local pid i
    pid="$(cat "$PID_FILE")"
    log "stopping Kafka broker (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      err "broker did not stop within 30 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    log "Kafka broker stopped"
  else
    log "Kafka broker is not running (no live pid in .data/kafka/kafka.pid)"
    if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      err "note: something still listens on $KAFKA_HOST:$KAFKA_PORT that infra.sh did not start; left alone"
    fi
  fi
  rm -f "$PID_FILE"
  if ((wipe)); then
    exec 9>&-
    rm -rf "$DATA_DIR"
    log "wiped .data/kafka"
  fi
}

cmd_status() {
  local down=0
  if kafka_answers; then
    local how=""
    pid_alive && how=" (pid $(cat "$PID_FILE"))"
    echo "infra: Kafka       up   $KAFKA_HOST:$KAFKA_PORT$how"
  else
    echo "infra: Kafka       down $KAFKA_HOST:$KAFKA_PORT"
    down=1
  fi
  if pg_up; then
    echo "infra: PostgreSQL  up   $PGHOST:$PGPORT"
  else
    echo "infra: PostgreSQL  down $PGHOST:$PGPORT"
    down=1
  fi
  if redis_up; then
    echo "infra: Redis       up   $REDIS_HOST:$REDIS_PORT"
  else
    echo "infra: Redis       down $REDIS_HOST:$REDIS_PORT"
    down=1
  fi
  return "$down"
}

usage() {
  echo "usage: bash infra/infra.sh up | down [--wipe] | status" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
case "$command" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
