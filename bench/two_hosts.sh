#!/usr/bin/env bash
# Two app hosts as network namespaces on this machine, behind HAProxy (docs/performance.md,
# "Two hosts behind HAProxy"). Run as root, from anywhere; it uses the checkout it lives in.
#
#   bench/two_hosts.sh up                 namespaces, veths, forwarders, 2 x make serve, HAProxy
#   bench/two_hosts.sh status             what runs, sockets per host, HAProxy's view
#   bench/two_hosts.sh run SECONDS ARGS   bench/benchmark.py through the balancer; SECONDS after
#                                         the first step, kill host 1 (0: kill nothing)
#   bench/two_hosts.sh kill-host N        SIGKILL host N's `make serve` process group
#   bench/two_hosts.sh start-host N       start host N's `make serve` again
#   bench/two_hosts.sh down               remove everything `up` made (database included)
#   bench/two_hosts.sh kill-redis PORT    SIGKILL the private Redis shard on PORT (REDIS_PORTS)
#   bench/two_hosts.sh start-redis PORT   start it again (empty: a new run_id)
#
# REDIS_PORTS="16401 16402" (given to `up`, `run` and `down` alike): instead of the shared
# Redis on 6379, one private redis-server per port (no persistence), the channel layer
# sharded over them all (REDIS_URL lists each; the cache and logins use the first). Then
# `run` also takes REDIS_KILL_PORT, REDIS_KILL_AT and REDIS_DOWN_SECONDS: that shard is
# killed REDIS_KILL_AT seconds after the first step and started again REDIS_DOWN_SECONDS later.
#
# `up` is idempotent: it makes only what is missing. Addresses: host N is 10.231.N.2 in
# namespace ${NS}N (imago-hN), reached over the veth of that name (10.231.N.1 on this side); the
# namespaces have no default route, so they reach nothing but that veth. PostgreSQL and
# Redis listen on 127.0.0.1 only: socat forwarders on 10.231.N.1 pass the namespaces'
# connections to them. HAProxy listens on 127.0.0.1:$LB_PORT only.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${STATE:-/tmp/imago-two-hosts}
NET=${NET:-10.231}         # host N: $NET.N.1 (this side) and $NET.N.2 (in the namespace)
LB_PORT=${LB_PORT:-18480}  # HAProxy, on 127.0.0.1
APP_PORT=8000              # make serve in each namespace
DB=${DB:-imago_hosts}
PREFIX=${PREFIX:-imago-hosts}  # CHANNELS_PREFIX
NS=${NS:-imago-h}          # host N: namespace and veth $NS$N (at most 15 characters)
WORKERS=${WORKERS:-2}
DB_POOL_MAX_SIZE=${DB_POOL_MAX_SIZE:-5}  # 2 hosts x 2 workers x 5, far under max_connections
HOSTS=(1 2)
read -ra REDIS_PORTS <<<"${REDIS_PORTS:-}"  # private Redis shards; none: the shared 6379

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }
alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_root() { [[ $(id -u) == 0 ]] || die "run as root (ip netns, veth)"; }

env_file() {
  # The settings both hosts and the bench share; the key is made once and kept until `down`.
  mkdir -p "$STATE"
  if [[ ! -s $STATE/hosts.env ]]; then
    local key
    key=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
    cat > "$STATE/hosts.env" <<EOF
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
export REDIS_URL=$(redis_urls 127.0.0.1)
export CHANNELS_PREFIX=$PREFIX
export SECRET_KEY=two-hosts-only-$key
export HTTPS=0 ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SETTINGS_MODULE=bench.settings ASGI_APP=bench.asgi:application  # + echo baseline
export DB_POOL_MAX_SIZE=$DB_POOL_MAX_SIZE
EOF
  fi
  if ! grep -q ASGI_APP "$STATE/hosts.env"; then  # an env file from before bench/asgi.py
    sed -i '/BENCHMARK_ENDPOINTS/d' "$STATE/hosts.env"
    echo "export DJANGO_SETTINGS_MODULE=bench.settings ASGI_APP=bench.asgi:application" \
      >> "$STATE/hosts.env"
  fi
  if ! grep -q FIELD_ENCRYPTION_KEYS "$STATE/hosts.env"; then
    # Both hosts must read what the other encrypted: one Fernet key, shared (an env file
    # written before make serve required it gets one too).
    echo "export FIELD_ENCRYPTION_KEYS=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')" \
      >> "$STATE/hosts.env"
  fi
  # shellcheck disable=SC1091
  . "$STATE/hosts.env"
}

redis_ports() {
  if ((${#REDIS_PORTS[@]})); then echo "${REDIS_PORTS[@]}"; else echo 6379; fi
}

redis_urls() {
  # REDIS_URL as seen from ADDRESS: every shard, comma-separated (channels-redis shards the
  # layer over them; the cache and logins use the first).
  local port urls=()
  for port in $(redis_ports); do urls+=("redis://$1:$port/0"); done
  (IFS=,; echo "${urls[*]}")
}

redis_start() {
  # A private shard: no persistence, so a restart comes back empty (as after a crash).
  local port=$1 dir=$STATE/redis-$1
  mkdir -p "$dir"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
  local i
  for i in $(seq 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  die "redis-server on $port didn't start: see $dir/redis.log"
}

redis_up() {
  local port
  for port in "${REDIS_PORTS[@]}"; do
    [[ $port == 6379 ]] && die "REDIS_PORTS: 6379 is the machine's shared Redis"
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && continue
    redis_start "$port"
    say "Redis shard on 127.0.0.1:$port"
  done
}

kill_redis() {
  local port=$1 pidfile=$STATE/redis-$1/redis.pid
  alive "$pidfile" || die "no private Redis runs on $port"
  say "killing the Redis shard on $port: SIGKILL to $(cat "$pidfile")"
  kill -KILL "$(cat "$pidfile")"
  rm -f "$pidfile"
}

net_up() {
  local n=$1 ns=$NS$1 veth=$NS$1
  ip netns list | grep -qw "^$ns" || ip netns add "$ns"
  if ! ip link show "$veth" >/dev/null 2>&1; then
    ip link add "$veth" type veth peer name app0 netns "$ns"
  fi
  ip addr replace "$NET.$n.1/24" dev "$veth"
  ip link set "$veth" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr replace "$NET.$n.2/24" dev app0
  ip -n "$ns" link set app0 up
}

forwarders_up() {
  # PostgreSQL and Redis on $NET.N.1, for namespace N only (they listen on loopback).
  local n=$1 port
  for port in 5432 $(redis_ports); do
    local pidfile=$STATE/socat-h$n-$port.pid
    alive "$pidfile" && continue
    socat "TCP-LISTEN:$port,bind=$NET.$n.1,reuseaddr,fork,nodelay,backlog=512" \
      "TCP:127.0.0.1:$port,nodelay" >>"$STATE/socat-h$n-$port.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
  done
}

host_up() {
  local n=$1
  local pidfile=$STATE/serve-h$n.pid
  if alive "$pidfile"; then
    say "host $n already runs (make serve, pid $(cat "$pidfile"))"
    return
  fi
  # setsid: make is the leader of its own process group, so `kill-host` takes the whole host
  # (make, uvicorn's supervisor and its workers) and nothing else.
  (
    ulimit -n 20000
    exec setsid ip netns exec "$NS$n" env \
      DATABASE_URL="postgres://postgres@$NET.$n.1:5432/$DB" \
      REDIS_URL="$(redis_urls "$NET.$n.1")" \
      HOST="$NET.$n.2" PORT=$APP_PORT WORKERS="$WORKERS" FORWARDED_ALLOW_IPS="$NET.$n.1" \
      make -C "$REPO" serve
  ) >>"$STATE/serve-h$n.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  say "host $n: make serve started (pid $(cat "$pidfile")), waiting for it to answer"
  local i
  for i in $(seq 120); do
    if curl -sf -o /dev/null --max-time 2 -H 'Host: 127.0.0.1' "http://$NET.$n.2:$APP_PORT/notes/"; then
      say "host $n answers on $NET.$n.2:$APP_PORT"
      return
    fi
    alive "$pidfile" || die "host $n's make serve exited: see $STATE/serve-h$n.log"
    sleep 1
  done
  die "host $n didn't answer within 120 s: see $STATE/serve-h$n.log"
}

haproxy_up() {
  local cfg=$STATE/haproxy.cfg
  ulimit -n 20000
  cat >"$cfg" <<EOF
# Written by bench/two_hosts.sh: our own process, not the system service.
global
    maxconn 9000                  # ~2 fds each, under ulimit -n 20000
    pidfile $STATE/haproxy.pid
    stats socket $STATE/haproxy.sock mode 600 level admin

defaults
    mode http
    option forwardfor
    option redispatch 1           # a failed connect is retried on the other host
    retries 3
    timeout connect 3s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 5s
    timeout tunnel 1h             # a websocket, once upgraded: live pages may sit idle
    timeout client-fin 10s
    timeout server-fin 10s

frontend imago
    bind 127.0.0.1:$LB_PORT
    http-request set-header X-Forwarded-Proto http
    default_backend hosts

backend hosts
    balance leastconn             # long-lived websockets: fill the emptiest host
    option httpchk
    http-check send meth GET uri /notes/ ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    # which host served the response (the bench counts sockets per host with it)
    http-response set-header X-Served-By %[srv_name]
    # Active checks every second; and a host whose connect fails (refused: it died) is marked
    # down at once, so the sockets it dropped don't try it again while the checks catch up.
    default-server check inter 1s fall 2 rise 2 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down
EOF
  local n
  for n in "${HOSTS[@]}"; do
    echo "    server h$n $NET.$n.2:$APP_PORT" >>"$cfg"
  done
  haproxy -c -q -f "$cfg" || die "haproxy rejected $cfg"
  if alive "$STATE/haproxy.pid"; then
    haproxy -D -f "$cfg" -sf "$(cat "$STATE/haproxy.pid")"  # reload with the same config
  else
    haproxy -D -f "$cfg"
  fi
  say "HAProxy on 127.0.0.1:$LB_PORT (pid $(cat "$STATE/haproxy.pid"))"
}

up() {
  need_root
  command -v haproxy >/dev/null || die "apt-get install -y haproxy"
  command -v socat >/dev/null || die "apt-get install -y socat"
  env_file
  if ! psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
    createdb -h 127.0.0.1 -U postgres "$DB"
    say "created database $DB"
  fi
  redis_up
  local n
  for n in "${HOSTS[@]}"; do
    net_up "$n"
    forwarders_up "$n"
  done
  for n in "${HOSTS[@]}"; do
    host_up "$n"  # one after the other: the first runs the migrations (docs/deployment.md)
  done
  haproxy_up
  status
}

host_sockets() {
  # established TCP connections to make serve in namespace N (websockets + HTTP keep-alive)
  ip netns exec "$NS$1" ss -Htn state established "( sport = :$APP_PORT )" 2>/dev/null | wc -l
}

status() {
  local n
  for n in "${HOSTS[@]}"; do
    local state=stopped
    alive "$STATE/serve-h$n.pid" && state="running (pgid $(cat "$STATE/serve-h$n.pid"))"
    say "host $n ($NET.$n.2:$APP_PORT): $state, $(host_sockets "$n") TCP connections"
  done
  local port
  for port in "${REDIS_PORTS[@]}"; do
    if alive "$STATE/redis-$port/redis.pid"; then
      say "Redis shard 127.0.0.1:$port: running, $(redis-cli -p "$port" info clients | grep -o 'connected_clients:[0-9]*')"
    else
      say "Redis shard 127.0.0.1:$port: stopped"
    fi
  done
  if [[ -S $STATE/haproxy.sock ]]; then
    echo "show stat" | socat - "UNIX-CONNECT:$STATE/haproxy.sock" |
      awk -F, '$1 == "hosts" { print "  haproxy " $2 ": " $18 ", current sessions " $5 ", total " $8 }'
  fi
}

kill_host() {
  local n=$1 pidfile=$STATE/serve-h$1.pid
  alive "$pidfile" || die "host $n doesn't run"
  say "killing host $n: SIGKILL to process group $(cat "$pidfile") ($(host_sockets "$n") TCP connections)"
  kill -KILL -- "-$(cat "$pidfile")"
  rm -f "$pidfile"
}

run_bench() {
  # run KILL_AFTER [benchmark args]: the benchmark through the balancer; KILL_AFTER seconds
  # after its first step, host 1 is killed (0: nothing is killed).
  local kill_after=${1:?run SECONDS [benchmark args]}
  shift
  env_file
  local out=$STATE/bench-$(date -u +%Y%m%dT%H%M%S).out pids=() n
  for n in "${HOSTS[@]}"; do
    alive "$STATE/serve-h$n.pid" && pids+=(--server-pid "$(cat "$STATE/serve-h$n.pid")")
  done
  ulimit -n 20000
  "$REPO/.venv/bin/python" "$REPO/bench/benchmark.py" --url "http://127.0.0.1:$LB_PORT" \
    --served-by-header X-Served-By "${pids[@]}" "$@" >"$out" 2>&1 &
  local bench=$!
  say "benchmark started (pid $bench), output in $out"
  local redis_port=${REDIS_KILL_PORT:-}
  if [[ $kill_after != 0 || -n $redis_port ]]; then
    local waited=0
    until grep -q "one step each every" "$out"; do
      kill -0 "$bench" 2>/dev/null || break
      ((waited++ < 900)) || { say "no step after 900 s: not killing"; break; }
      sleep 1
    done
    if grep -q "one step each every" "$out"; then
      # Each accident at its second after the first step, in order of time.
      local started=$SECONDS events=()
      [[ $kill_after != 0 ]] && events+=("$kill_after host")
      if [[ -n $redis_port ]]; then
        local at=${REDIS_KILL_AT:-30}
        events+=("$at redis-kill" "$((at + ${REDIS_DOWN_SECONDS:-10})) redis-start")
      fi
      local at what
      while read -r at what; do
        sleep "$((at - (SECONDS - started) > 0 ? at - (SECONDS - started) : 0))"
        kill -0 "$bench" 2>/dev/null || break
        case $what in
          host) kill_host 1 | tee -a "$out" ;;
          redis-kill) kill_redis "$redis_port" | tee -a "$out" ;;
          redis-start) redis_start "$redis_port" && say "Redis shard on $redis_port started again" | tee -a "$out" ;;
        esac
      done < <(printf '%s\n' "${events[@]}" | sort -n)
    fi
  fi
  local rc=0
  wait "$bench" || rc=$?
  cat "$out"
  say "benchmark exited with $rc; output in $out"
  return "$rc"
}

down() {
  need_root
  local n pidfile
  if alive "$STATE/haproxy.pid"; then
    kill "$(cat "$STATE/haproxy.pid")"
    say "stopped HAProxy"
  fi
  for n in "${HOSTS[@]}"; do
    pidfile=$STATE/serve-h$n.pid
    if alive "$pidfile"; then
      kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null || true
      for _ in $(seq 15); do alive "$pidfile" || break; sleep 1; done
      alive "$pidfile" && { kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true; }
      say "stopped host $n"
    fi
    for pidfile in "$STATE"/socat-h"$n"-*.pid; do
      [[ -e $pidfile ]] || continue
      # the listener and the children it forked for open connections
      alive "$pidfile" && { pkill -TERM -P "$(cat "$pidfile")" 2>/dev/null || true; }
      alive "$pidfile" && { kill "$(cat "$pidfile")" || true; }
    done
    ip link show "$NS$n" >/dev/null 2>&1 && ip link del "$NS$n"
    ip netns list | grep -qw "^$NS$n" && ip netns del "$NS$n"
  done
  say "removed the namespaces, veths and forwarders"
  if psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
    dropdb -h 127.0.0.1 -U postgres --force "$DB"
    say "dropped database $DB"
  fi
  local port
  for port in "${REDIS_PORTS[@]}"; do
    if alive "$STATE/redis-$port/redis.pid"; then
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
      say "stopped the Redis shard on $port"
    fi
  done
  if ! ((${#REDIS_PORTS[@]})); then
    local keys
    keys=$(redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$PREFIX*" | wc -l)
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "$PREFIX*" | xargs -r -n 100 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null
    say "deleted $keys Redis keys under $PREFIX"
  fi
  rm -rf "$STATE"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) env_file; status ;;
  run) shift; run_bench "$@" ;;
  kill-host) need_root; kill_host "${2:?kill-host N}" ;;
  start-host) need_root; env_file; host_up "${2:?start-host N}"; status ;;
  kill-redis) kill_redis "${2:?kill-redis PORT}" ;;
  start-redis) redis_start "${2:?start-redis PORT}" ;;
  *) sed -n '2,26p' "$0"; exit 2 ;;
esac
