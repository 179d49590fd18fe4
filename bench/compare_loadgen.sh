#!/usr/bin/env bash
# compare_loadgen.sh RESULTS.json — tcplab-load beside wrk and ab, against the same nginx.
#
# nginx-light runs from its own temporary prefix (one process, master_process off, no access
# log, a 4000-byte file at /4000) on a free loopback port, pinned to CPU 0; every generator runs
# pinned to CPU 1. NGINX_CONFIG=default (the default) leaves nginx's file serving at its
# defaults (sendfile off, open_file_cache off: the file opened and read per request);
# NGINX_CONFIG=tuned adds sendfile on, tcp_nopush on and open_file_cache, as the suite's
# `nginx (sendfile, open_file_cache)` row runs it (bench/tcplab_suite/nginx.py).
#   keep-alive:      wrk -t1 -c50 -d5s           vs tcplab-load --http --clients 50 --duration 5s
#                    (tcplab-load keeps each connection for the whole run, as wrk does)
#   conn per request: ab -c5 -n20000 (HTTP/1.0)  vs tcplab-load --http --clients 5
#                                                   --connections 20000 --requests-per-conn 1
#   source addresses: tcplab-load --source-addresses 1 vs 16 against tcplab-server prefork
#                    (which lets the client close first), 5 clients, 40000 connections
# Each pair runs REPS times (default 3), alternating which goes first; the table shows medians.
# Connection-per-request runs wait for TIME_WAIT sockets to drain first (up to 75 s each).
# Generator CPU is user+sys of the generator process as /usr/bin/time reports it (getrusage of
# the child, whole process life including start-up), divided by the requests it completed;
# the same method for all three tools; user and system time are kept apart too. ab's
# percentiles come from its -e CSV (its table has whole milliseconds only).
# If perf is installed and allowed, one more connection-per-request run of tcplab-load under
# `perf record -g` splits its CPU by system call (socket, connect, send, recv, close, epoll).
#   Environment: TCPLAB_BIN (default: build/bin beside this script), REPS, SERVER_CPU, LOAD_CPU,
#   NGINX_CONFIG (default or tuned).
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then  # the comment above is the help
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
  exit 0
fi

results=${1:?usage: compare_loadgen.sh RESULTS.json}
here=$(cd "$(dirname "$0")" && pwd)
bin=${TCPLAB_BIN:-$here/../build/bin}
reps=${REPS:-3}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
nginx_config=${NGINX_CONFIG:-default}
[[ $nginx_config == default || $nginx_config == tuned ]] ||
  { echo "compare_loadgen: NGINX_CONFIG must be default or tuned, not '$nginx_config'" >&2; exit 1; }
for tool in "$bin/tcplab-load" "$bin/tcplab-server" /usr/sbin/nginx /usr/bin/wrk /usr/bin/ab /usr/bin/time taskset; do
  command -v "$tool" >/dev/null || { echo "compare_loadgen: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/tcplab-loadgen.XXXXXX)
nginx_pid=
server_pid=
cleanup() {
  [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The configuration and the 4000-byte file (byte k is '0' + k % 10, as every tcplab server sends
# it) come from the suite's nginx module, the one place both configurations are written.
(cd "$here" && python3 -m tcplab_suite.nginx "$tmp/nginx" --port "$port" --config "$nginx_config" \
  --single-process) || { echo "compare_loadgen: cannot write the nginx configuration" >&2; exit 1; }
taskset -c "$server_cpu" /usr/sbin/nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/4000" && break
  sleep 0.1
done
[[ $(curl -sf "http://127.0.0.1:$port/4000" | wc -c) == 4000 ]] || { echo "compare_loadgen: nginx did not start" >&2; exit 1; }
url="http://127.0.0.1:$port/4000"

# run NAME COMMAND...: pinned to the load CPU, CPU time from /usr/bin/time into NAME.time.
run() {
  local name=$1
  shift
  /usr/bin/time -f '%U %S %e' -o "$tmp/$name.time" taskset -c "$load_cpu" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
}
# Each connection-per-request run leaves 20000 sockets in TIME_WAIT (nginx closes first) for
# 60 s; with more of them than ephemeral ports every new SYN meets one, and conn/s falls to a
# third for whichever tool comes next. So each such run starts once they have drained.
drain_time_wait() {
  for _ in $(seq 75); do
    (($(awk '$4 == "06"' /proc/net/tcp | wc -l) < 1000)) && return
    sleep 1
  done
}
runs=()
for rep in $(seq "$reps"); do
  # Alternate the order so neither tool always meets a freshly started (or tired) nginx.
  if ((rep % 2)); then order=(tcplab other); else order=(other tcplab); fi
  for who in "${order[@]}"; do
    if [[ $who == tcplab ]]; then
      run "keepalive-tcplab-$rep" "$bin/tcplab-load" --port "$port" --http --clients 50 \
        --requests-per-conn 1000000000 --duration 5s --json "$tmp/keepalive-tcplab-$rep.json"
      drain_time_wait
      run "perconn-tcplab-$rep" "$bin/tcplab-load" --port "$port" --http --clients 5 \
        --connections 20000 --requests-per-conn 1 --json "$tmp/perconn-tcplab-$rep.json"
    else
      run "keepalive-wrk-$rep" wrk -t1 -c50 -d5s --latency "$url"
      drain_time_wait
      run "perconn-ab-$rep" ab -q -c5 -n20000 -e "$tmp/perconn-ab-$rep.csv" "$url"
    fi
  done
  runs+=("$rep")
  echo "compare_loadgen: repetition $rep of $reps done" >&2
done

# Source addresses. tcplab's servers let the client close first, so the TIME_WAIT ports pile up
# on the generator's side; nginx closes first and keeps them itself. Against a prefork server,
# 40000 connections from one source address, then from 16 (--source-addresses). Each run gets
# a fresh server on a fresh port, so no run meets another's TIME_WAIT sockets.
for rep in $(seq "$reps"); do
  if ((rep % 2)); then order=(1 16); else order=(16 1); fi
  for n in "${order[@]}"; do
    taskset -c "$server_cpu" "$bin/tcplab-server" prefork --port 0 --workers 15 >"$tmp/server.out" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do grep -q "^listening on" "$tmp/server.out" && break; sleep 0.05; done
    sport=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/server.out")
    [[ -n $sport ]] || { echo "compare_loadgen: tcplab-server did not start" >&2; exit 1; }
    run "sources-$n-$rep" "$bin/tcplab-load" --port "$sport" --clients 5 --connections 40000 \
      --bytes 4000 --source-addresses "$n" --json "$tmp/sources-$n-$rep.json"
    kill "$server_pid" && wait "$server_pid" || true
    server_pid=
  done
  echo "compare_loadgen: source addresses, repetition $rep of $reps done" >&2
done

# Where tcplab-load's CPU goes with a connection per request: one more run under perf, when
# perf is installed and allowed here (it is optional; the table above does not need it).
perf_txt=
if command -v perf >/dev/null && perf record -q -o "$tmp/probe.data" -- true 2>/dev/null; then
  drain_time_wait
  perf record -q -g -o "$tmp/perf.data" -- taskset -c "$load_cpu" "$bin/tcplab-load" \
    --port "$port" --http --clients 5 --connections 20000 --requests-per-conn 1 >/dev/null 2>&1
  perf report -i "$tmp/perf.data" --children --sort symbol -g none --stdio >"$tmp/perf.txt" 2>/dev/null &&
    perf_txt=$tmp/perf.txt
else
  echo "compare_loadgen: perf not usable here; no CPU breakdown by system call" >&2
fi

python3 - "$tmp" "$reps" "$results" "$port" "$perf_txt" "$nginx_config" <<'PY'
import json, re, statistics, sys
tmp, reps, results, port, perf_txt, nginx_config = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]

def user_sys(name):
    user, sys_ = open(f"{tmp}/{name}.time").read().split()[-3:-1]
    return float(user), float(sys_)

def busy(name):  # the share of one core the generator used over its whole life
    user, sys_, wall = (float(x) for x in open(f"{tmp}/{name}.time").read().split()[-3:])
    return (user + sys_) / wall

def cpu(name):
    return sum(user_sys(name))

def split(name, requests):  # user and system CPU µs per request
    user, sys_ = user_sys(name)
    return {"user_us_per_req": user * 1e6 / requests, "sys_us_per_req": sys_ * 1e6 / requests,
            "core_busy": busy(name)}

def ms(text):  # wrk's "1.23ms", "850.00us", "1.01s"
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

def tcplab(name):
    j = json.load(open(f"{tmp}/{name}.json"))
    total = j["latency"]["total"]
    return {"req_s": j["rates"]["requests_per_s"], "conn_s": j["rates"]["connections_per_s"],
            "p50_ms": total["p50_us"] / 1e3, "p99_ms": total["p99_us"] / 1e3,
            "requests": j["counts"]["requests"], "failed": j["counts"]["failed"],
            "cpu_us_per_req": cpu(name) * 1e6 / max(1, j["counts"]["requests"]),
            **split(name, max(1, j["counts"]["requests"])),
            "self_reported_cpu_us_per_req": j["cpu"]["us_per_request"]}

def wrk(name):
    out = open(f"{tmp}/{name}.out").read()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"req_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "conn_s": 50 / 5.0,  # wrk opens its 50 connections once
            "p50_ms": ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
            "p99_ms": ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
            "requests": requests, "failed": 0 if errors is None else errors.group(0),
            "cpu_us_per_req": cpu(name) * 1e6 / requests, **split(name, requests)}

def ab(name):
    out = open(f"{tmp}/{name}.out").read()
    requests = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    # ab's table gives whole milliseconds; its -e CSV gives each percentile in fractional ms.
    pct = dict(line.split(",") for line in open(f"{tmp}/{name}.csv").read().split("\n")[1:] if line)
    return {"req_s": rate, "conn_s": rate,
            "p50_ms": float(pct["50"]), "p99_ms": float(pct["99"]),
            "requests": requests,
            "failed": int(re.search(r"Failed requests:\s+(\d+)", out).group(1)),
            "cpu_us_per_req": cpu(name) * 1e6 / requests, **split(name, requests)}

# (scenario, tool, parser, file stem)
rows = [("keepalive", "tcplab", tcplab, "keepalive-tcplab"), ("keepalive", "wrk", wrk, "keepalive-wrk"),
        ("perconn", "tcplab", tcplab, "perconn-tcplab"), ("perconn", "ab", ab, "perconn-ab"),
        ("sources", "tcplab, 1 address", tcplab, "sources-1"),
        ("sources", "tcplab, 16 addresses", tcplab, "sources-16")]
summary = {}
for scenario, tool, parse, stem in rows:
    runs = [parse(f"{stem}-{rep}") for rep in range(1, reps + 1)]
    median = {k: statistics.median(r[k] for r in runs) for k in
              ("req_s", "conn_s", "p50_ms", "p99_ms", "cpu_us_per_req", "user_us_per_req",
               "sys_us_per_req", "core_busy")}
    summary[f"{scenario}/{tool}"] = {"median": median, "runs": runs}

def m(key, field): return summary[key]["median"][field]
ratios = {
    "keepalive_req_s_tcplab_over_wrk": m("keepalive/tcplab", "req_s") / m("keepalive/wrk", "req_s"),
    "keepalive_cpu_tcplab_over_wrk": m("keepalive/tcplab", "cpu_us_per_req") / m("keepalive/wrk", "cpu_us_per_req"),
    "perconn_conn_s_tcplab_over_ab": m("perconn/tcplab", "conn_s") / m("perconn/ab", "conn_s"),
    "perconn_cpu_tcplab_over_ab": m("perconn/tcplab", "cpu_us_per_req") / m("perconn/ab", "cpu_us_per_req"),
    # With the generator's core saturated, conn/s is one core over CPU per connection. Were
    # tcplab-load's own code free, its system time alone would still bound it to this multiple
    # of ab's rate.
    "perconn_bound_ab_cpu_over_tcplab_sys": m("perconn/ab", "cpu_us_per_req") / m("perconn/tcplab", "sys_us_per_req"),
    "sources_conn_s_16_over_1": m("sources/tcplab, 16 addresses", "conn_s") / m("sources/tcplab, 1 address", "conn_s"),
    "sources_cpu_16_over_1": m("sources/tcplab, 16 addresses", "cpu_us_per_req") / m("sources/tcplab, 1 address", "cpu_us_per_req"),
}
titles = {"keepalive": "keep-alive, 50 conns, 5 s", "perconn": "conn/request, 5 clients, 20000",
          "sources": "tcplab prefork, 5 clients, 40000"}
print(f"\nnginx ({nginx_config} configuration) in 1 process on the server CPU, generator on the"
      f" load CPU, 4000-byte body, medians of {reps} runs\n")
print("| scenario | generator | req/s | conn/s | p50 ms | p99 ms | generator CPU µs/req |")
print("|---|---|---:|---:|---:|---:|---:|")
for scenario, tool, _, _ in rows:
    md = summary[f"{scenario}/{tool}"]["median"]
    print(f"| {titles[scenario]} | {tool} | {md['req_s']:.0f} | "
          f"{md['conn_s']:.0f} | {md['p50_ms']:.3f} | {md['p99_ms']:.3f} | {md['cpu_us_per_req']:.2f} |")
print()
for k, v in ratios.items():
    print(f"{k}: {v:.2f}")

# perf's "children" share of all samples for each system call's kernel entry point, and the
# share of samples in user space ([.] symbols, self time).
breakdown = None
if perf_txt:
    calls = {"socket": "__x64_sys_socket", "connect": "__x64_sys_connect",
             "send": "__x64_sys_sendto", "recv": "__x64_sys_recvfrom", "close": "__x64_sys_close",
             "epoll_ctl": "__x64_sys_epoll_ctl", "epoll_wait": "__x64_sys_epoll_pwait2"}
    children, user = {}, 0.0
    for line in open(perf_txt):
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        if m.group(3) == ".":
            user += float(m.group(2))
        children[m.group(4)] = float(m.group(1))
    breakdown = {name: children.get(sym, 0.0) for name, sym in calls.items()}
    breakdown["user_space"] = user
    print("\ntcplab-load, connection per request, % of its CPU samples (perf):")
    for k, v in breakdown.items():
        print(f"  {k}: {v:.1f}")
json.dump({"schema": 2, "nginx_port": int(port), "reps": reps, "nginx_config": nginx_config,
           "nginx_conf": open(f"{tmp}/nginx/nginx.conf").read(),
           "cpu_method": "/usr/bin/time %U+%S of the generator process / completed requests",
           "summary": summary, "ratios": ratios, "perconn_tcplab_cpu_by_call_pct": breakdown},
          open(results, "w"), indent=2)
print(f"\nwrote {results}")
PY
