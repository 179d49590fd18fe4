#!/usr/bin/env bash
# compare_loadgen.sh RESULTS.json — tcplab-load beside wrk and ab, against the same nginx.
#
# nginx-light runs from its own temporary prefix (one worker, no access log, a 4000-byte file
# at /4000) on a free loopback port, pinned to CPU 0; every generator runs pinned to CPU 1.
#   keep-alive:      wrk -t1 -c50 -d5s           vs tcplab-load --http --clients 50 --duration 5s
#                    (tcplab-load keeps each connection for the whole run, as wrk does)
#   conn per request: ab -c5 -n20000 (HTTP/1.0)  vs tcplab-load --http --clients 5
#                                                   --connections 20000 --requests-per-conn 1
# Each pair runs REPS times (default 3), alternating which goes first; the table shows medians.
# Connection-per-request runs wait for TIME_WAIT sockets to drain first (up to 75 s each).
# Generator CPU is user+sys of the generator process as /usr/bin/time reports it (getrusage of
# the child, whole process life including start-up), divided by the requests it completed;
# the same method for all three tools.
#   Environment: TCPLAB_BIN (default: build/bin beside this script), REPS, SERVER_CPU, LOAD_CPU.
set -euo pipefail

results=${1:?usage: compare_loadgen.sh RESULTS.json}
here=$(cd "$(dirname "$0")" && pwd)
bin=${TCPLAB_BIN:-$here/../build/bin}
reps=${REPS:-3}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
for tool in "$bin/tcplab-load" /usr/sbin/nginx /usr/bin/wrk /usr/bin/ab /usr/bin/time taskset; do
  command -v "$tool" >/dev/null || { echo "compare_loadgen: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/tcplab-loadgen.XXXXXX)
nginx_pid=
cleanup() {
  [[ -n $nginx_pid ]] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/html" "$tmp/logs"
# Body byte k is '0' + k % 10, as every tcplab server sends it.
python3 -c 'import sys; sys.stdout.write("".join(str(k % 10) for k in range(4000)))' >"$tmp/html/4000"
cat >"$tmp/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $tmp/logs/error.log;
pid $tmp/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    root $tmp/html;
    default_type application/octet-stream;
  }
}
CONF
taskset -c "$server_cpu" /usr/sbin/nginx -p "$tmp" -c "$tmp/nginx.conf" &
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
  /usr/bin/time -f '%U %S' -o "$tmp/$name.time" taskset -c "$load_cpu" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
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
      run "perconn-ab-$rep" ab -q -c5 -n20000 "$url"
    fi
  done
  runs+=("$rep")
  echo "compare_loadgen: repetition $rep of $reps done" >&2
done

python3 - "$tmp" "$reps" "$results" "$port" <<'PY'
import json, re, statistics, sys
tmp, reps, results, port = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

def cpu(name):
    user, sys_ = open(f"{tmp}/{name}.time").read().split()[-2:]
    return float(user) + float(sys_)

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
            "cpu_us_per_req": cpu(name) * 1e6 / requests}

def ab(name):
    out = open(f"{tmp}/{name}.out").read()
    requests = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    return {"req_s": rate, "conn_s": rate,
            "p50_ms": float(re.search(r"\n\s+50%\s+(\d+)", out).group(1)),  # whole ms only
            "p99_ms": float(re.search(r"\n\s+99%\s+(\d+)", out).group(1)),
            "requests": requests,
            "failed": int(re.search(r"Failed requests:\s+(\d+)", out).group(1)),
            "cpu_us_per_req": cpu(name) * 1e6 / requests}

parse = {"tcplab": tcplab, "wrk": wrk, "ab": ab}
rows = [("keepalive", "tcplab"), ("keepalive", "wrk"), ("perconn", "tcplab"), ("perconn", "ab")]
summary = {}
for scenario, tool in rows:
    runs = [parse[tool](f"{scenario}-{tool}-{rep}") for rep in range(1, reps + 1)]
    median = {k: statistics.median(r[k] for r in runs) for k in
              ("req_s", "conn_s", "p50_ms", "p99_ms", "cpu_us_per_req")}
    summary[f"{scenario}/{tool}"] = {"median": median, "runs": runs}

def m(key, field): return summary[key]["median"][field]
ratios = {
    "keepalive_req_s_tcplab_over_wrk": m("keepalive/tcplab", "req_s") / m("keepalive/wrk", "req_s"),
    "keepalive_cpu_tcplab_over_wrk": m("keepalive/tcplab", "cpu_us_per_req") / m("keepalive/wrk", "cpu_us_per_req"),
    "perconn_conn_s_tcplab_over_ab": m("perconn/tcplab", "conn_s") / m("perconn/ab", "conn_s"),
    "perconn_cpu_tcplab_over_ab": m("perconn/tcplab", "cpu_us_per_req") / m("perconn/ab", "cpu_us_per_req"),
}
titles = {"keepalive": "keep-alive, 50 conns, 5 s", "perconn": "conn/request, 5 clients, 20000"}
print(f"\nnginx 1 worker on CPU 0, generator on CPU 1, 4000-byte body, medians of {reps} runs\n")
print("| scenario | generator | req/s | conn/s | p50 ms | p99 ms | generator CPU µs/req |")
print("|---|---|---:|---:|---:|---:|---:|")
for scenario, tool in rows:
    md = summary[f"{scenario}/{tool}"]["median"]
    print(f"| {titles[scenario]} | {'tcplab-load' if tool == 'tcplab' else tool} | {md['req_s']:.0f} | "
          f"{md['conn_s']:.0f} | {md['p50_ms']:.3f} | {md['p99_ms']:.3f} | {md['cpu_us_per_req']:.2f} |")
print()
for k, v in ratios.items():
    print(f"{k}: {v:.2f}")
json.dump({"schema": 1, "nginx_port": int(port), "reps": reps,
           "cpu_method": "/usr/bin/time %U+%S of the generator process / completed requests",
           "summary": summary, "ratios": ratios}, open(results, "w"), indent=2)
print(f"\nwrote {results}")
PY
