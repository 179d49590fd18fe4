"""Two hosts on one machine: a server network namespace and K load-generator namespaces.

On loopback, `loopback_xmit` -> `netif_rx` queues each packet on the *sending* CPU, so the
server's CPU pays for the client's receive path and the client's CPU for the server's. Here each
side has its own namespace and its own end of a veth pair, and RPS (`rps_cpus` on the receive
queue) steers every packet a side receives to that side's CPUs: each "host" pays for its own
receive path, as Stevens' machines did.

Topology (all of it inside namespaces this process made; nothing is added to the root namespace,
so 198.18.0.0/15 is routed nowhere else):

    K = 1:  [PREFIX-PID-srv] gen1 <--veth--> srv [PREFIX-PID-gen1]
    K > 1:  [PREFIX-PID-srv] br0 + ports gen1..genK <--veth--> srv [PREFIX-PID-genk]

    server      198.18.0.1/15 on gen1 (K = 1) or on the bridge br0 (K > 1)
    generator k 198.18.k.1 ... 198.18.k.N/15 on srv (N source addresses, 16 by default)

The bridge for K > 1 keeps one address for the server and one subnet for everyone, and its
forwarding runs inside the softirq that RPS already steered to the server's CPUs.

    with TwoHosts(load_hosts=1, server_cpus=[0], load_cpus=[[1]]) as net:
        subprocess.Popen(net.prefix(net.server) + ["tcplab-server", "epoll",
                                                   "--host", net.server.address, ...])
        load = net.loads[0]
        subprocess.run(net.prefix(load) + ["tcplab-load", "--host", net.server.address,
                                           *load.load_args(), ...])  # --source-base ...
        results["net"] = net.describe()

Needs root and iproute2's `ip`; without them TwoHosts raises NetnsUnavailable, which a caller
catches to carry on over loopback. Namespace names carry the owner's pid (tcplab-1234-srv):
leaving the `with` block, an exception, SIGTERM or SIGINT removes every namespace and link made
here; after a SIGKILL, cleanup_stale() (called by every set-up) removes those whose owner is dead.

Command line, from bench/ (see --help):
    python3 -m tcplab_suite.netns up|down|status|cleanup
"""

import argparse
import atexit
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

from . import procfs

NETWORK = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544's benchmark range
SERVER_ADDRESS = "198.18.0.1"
PREFIX_LEN = NETWORK.prefixlen
MAX_LOAD_HOSTS = 64
COMMAND_TIMEOUT_S = 10
TERM_WAIT_S = 5   # tcplab-server's default --grace-ms is 3000
KILL_WAIT_S = 3


class NetnsError(RuntimeError):
    """A step of setting up or tearing down the namespaces failed (command and its stderr)."""


class NetnsUnavailable(NetnsError):
    """Network namespaces cannot be made here (not root, no `ip`, or the kernel refuses); the
    suite catches this, prints the message and runs over loopback."""


def _tool(name):
    """The path of an administration tool; /usr/sbin and /sbin are not on every user's PATH."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _run(cmd, check=True, input=None):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, input=input,
                              timeout=COMMAND_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise NetnsError(f"{' '.join(cmd)}: no answer within {COMMAND_TIMEOUT_S}s") from None
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc


def cpu_mask(cpus):
    """rps_cpus's format: a hex bitmap in comma-separated 32-bit groups, e.g. [0] -> '1'."""
    mask = 0
    for cpu in cpus:
        mask |= 1 << cpu
    digits = format(mask, "x")
    groups = []
    while digits:
        groups.insert(0, digits[-8:])
        digits = digits[:-8]
    return ",".join(groups)


def _name_pattern(prefix):
    return re.compile(rf"^{re.escape(prefix)}-(\d+)-(srv|gen\d+)$")


_pid_alive = procfs.alive  # a zombie (killed, not yet reaped) counts as dead


def list_namespaces(ip=None):
    """Every named network namespace (`ip netns list`), names only."""
    ip = ip or _tool("ip")
    if not ip:
        return []
    out = _run([ip, "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def owned_namespaces(prefix="tcplab"):
    """[(name, owner_pid, owner_alive)] for the namespaces named PREFIX-PID-srv|genK."""
    pattern = _name_pattern(prefix)
    found = []
    for name in list_namespaces():
        m = pattern.match(name)
        if m:
            pid = int(m.group(1))
            found.append((name, pid, _pid_alive(pid)))
    return found


def _pids_in(ip, name):
    out = _run([ip, "netns", "pids", name], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _signal_and_wait(ip, name, pids, sig, wait_s):
    """Sends SIG to PIDS; returns those still in the namespace after at most WAIT_S."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + wait_s
    while pids and time.monotonic() < deadline:
        # A killed child of ours stays a zombie until reaped, but a zombie has left its
        # namespaces already, so `ip netns pids` no longer lists it.
        pids = _pids_in(ip, name)
        if pids:
            time.sleep(0.02)
    return pids


def _remove_namespace(ip, name, links=()):
    """End what still runs in the namespace (only our own runs ever enter it): SIGTERM first, so
    a tcplab-server stops as it would anywhere (its grace period, its summary), SIGKILL after
    TERM_WAIT_S; then delete the links we made there, then the namespace. Returns a list of
    problems, empty when all went. Its owner should have stopped them itself already (the suite
    does, in its `with Server`): this is the last resort."""
    problems = []
    pids = _pids_in(ip, name)
    if pids:
        pids = _signal_and_wait(ip, name, pids, signal.SIGTERM, TERM_WAIT_S)
    if pids:
        pids = _signal_and_wait(ip, name, pids, signal.SIGKILL, KILL_WAIT_S)
    if pids:
        problems.append(f"{name}: processes {pids} still inside after SIGKILL")
    for link in links:
        proc = _run([ip, "-n", name, "link", "del", link], check=False)
        # Gone already is fine: deleting the peer's namespace deletes a veth pair's both ends,
        # and the kernel may do so between the lookup ("Cannot find device") and the delete.
        if proc.returncode != 0 and not any(
                gone in proc.stderr for gone in ("Cannot find device", "No such device")):
            problems.append(f"ip -n {name} link del {link}: {proc.stderr.strip()}")
    proc = _run([ip, "netns", "del", name], check=False)
    if proc.returncode != 0 and name in list_namespaces(ip):
        problems.append(f"ip netns del {name}: {proc.stderr.strip()}")
    return problems


def cleanup_stale(prefix="tcplab"):
    """Remove the PREFIX-PID-* namespaces whose owner PID is dead (a SIGKILL leaves them behind);
    those of a live owner are left alone. Returns the names removed. A pid reused since by an
    unrelated process keeps its namespaces until that process ends too."""
    ip = _tool("ip")
    if not ip or os.geteuid() != 0:
        return []
    removed, problems = [], []
    for name, _, alive in owned_namespaces(prefix):
        if not alive:
            problems += _remove_namespace(ip, name)
            removed.append(name)
    if problems:
        raise NetnsError("; ".join(problems))
    return removed


class Host:
    """One namespace: the server or a load generator, with its CPUs and its addresses."""

    def __init__(self, role, index, name, cpus, device, addresses, rx_devices):
        self.role = role              # "server" or "load"
        self.index = index            # 0 for the server, k = 1..K for generators
        self.name = name              # the namespace
        self.cpus = list(cpus)        # RPS steers this host's receive softirq here
        self.device = device          # the interface holding the addresses
        self.addresses = addresses    # dotted quads; the first is the host's own address
        self.rx_devices = rx_devices  # the veth ends whose rx-0 queue RPS steers

    @property
    def address(self):
        return self.addresses[0]

    @property
    def source_base(self):
        """For `tcplab-load --source-base`: the first of this host's consecutive addresses."""
        return self.addresses[0]

    @property
    def source_addresses(self):
        """For `tcplab-load --source-addresses`."""
        return len(self.addresses)

    def load_args(self):
        """tcplab-load's arguments to connect from this generator's own addresses in turn."""
        return ["--source-base", self.source_base,
                "--source-addresses", str(self.source_addresses)]

    def __repr__(self):
        return f"Host({self.name}, {self.addresses[0]}, cpus={self.cpus})"


class TwoHosts:
    """A server namespace and `load_hosts` generator namespaces joined by veth; see the module
    docstring. `server_cpus` is the server's CPU list; `load_cpus` one list per generator, or
    a single list they all share. `source_addresses` addresses are given to each generator.
    Use as a context manager (or up() ... down()); signal handlers for SIGTERM and SIGINT are
    installed while it is up (main thread only) unless handle_signals=False."""

    def __init__(self, load_hosts=1, server_cpus=(0,), load_cpus=((1,),), prefix="tcplab",
                 source_addresses=16, handle_signals=True):
        if not isinstance(load_hosts, int) or not 1 <= load_hosts <= MAX_LOAD_HOSTS:
            raise ValueError(f"load_hosts must be 1..{MAX_LOAD_HOSTS}, not {load_hosts!r}")
        if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", prefix or ""):
            raise ValueError(f"prefix must be 1-16 lower-case letters and digits, not {prefix!r}")
        if not isinstance(source_addresses, int) or not 1 <= source_addresses <= 254:
            raise ValueError(f"source_addresses must be 1..254, not {source_addresses!r}")
        load_cpus = [list(c) for c in load_cpus]
        if len(load_cpus) == 1:
            load_cpus = load_cpus * load_hosts
        if len(load_cpus) != load_hosts:
            raise ValueError(f"load_cpus needs one CPU list per load host ({load_hosts}) "
                             f"or one list for all, not {len(load_cpus)}")
        ncpu = os.cpu_count() or 1
        for cpus in [list(server_cpus)] + load_cpus:
            if not cpus or any(not isinstance(c, int) or not 0 <= c < ncpu for c in cpus):
                raise ValueError(f"CPU list {cpus!r}: each CPU must be 0..{ncpu - 1}")
        self.prefix_name = prefix
        self.handle_signals = handle_signals
        self.owner = os.getpid()
        base = f"{prefix}-{self.owner}"
        self.topology = "veth pair" if load_hosts == 1 else "bridge"
        server_dev = "gen1" if load_hosts == 1 else "br0"
        self.server = Host("server", 0, f"{base}-srv", server_cpus, server_dev,
                           [SERVER_ADDRESS], [f"gen{k}" for k in range(1, load_hosts + 1)])
        self.loads = [Host("load", k, f"{base}-gen{k}", load_cpus[k - 1], "srv",
                           [f"198.18.{k}.{i}" for i in range(1, source_addresses + 1)], ["srv"])
                      for k in range(1, load_hosts + 1)]
        self.ip = None
        self.ethtool = None
        self.offloads = None
        self.stale_removed = []
        self._created = []           # namespaces made so far, in order
        self._previous = {}          # signal -> handler before ours
        self._lock = threading.RLock()
        self._up = False
        self._tearing_down = False
        self._pending_signal = None

    @property
    def hosts(self):
        return [self.server] + self.loads

    def prefix(self, ns):
        """The command prefix that runs a program in namespace NS (a Host or its name)."""
        name = ns.name if isinstance(ns, Host) else ns
        if name not in (h.name for h in self.hosts):
            raise ValueError(f"{name!r} is not one of this TwoHosts' namespaces")
        return [self.ip or _tool("ip") or "ip", "netns", "exec", name]

    # ------------------------------------------------------------------ set-up and teardown

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, exc_type, exc, tb):
        problems = self.down(raise_errors=exc_type is None)
        if problems:
            print("netns: teardown: " + "; ".join(problems), file=sys.stderr)
        return False

    def up(self):
        if self._up:
            raise NetnsError(f"{self.server.name} and its generators are up already")
        if os.geteuid() != 0:
            raise NetnsUnavailable("needs root: network namespaces are made with `ip netns add` "
                                   "(run as root, or use the loopback network)")
        self.ip = _tool("ip")
        if not self.ip:
            raise NetnsUnavailable("needs iproute2's `ip` (Debian: apt-get install iproute2)")
        self.ethtool = _tool("ethtool")
        self.stale_removed = cleanup_stale(self.prefix_name)
        with self._lock:
            self._up = True
            self._install_handlers()
            atexit.register(self._atexit_down)
        try:
            self._build()
        except BaseException:
            self.down(raise_errors=False)
            raise
        return self

    def _ip(self, *args, ns=None, input=None):
        cmd = [self.ip] + (["-n", ns] if ns else []) + list(args)
        return _run(cmd, input=input)

    def _exec(self, ns, *cmd):
        return _run([self.ip, "netns", "exec", ns] + list(cmd))

    def _add_namespace(self, name):
        if name in list_namespaces(self.ip):
            raise NetnsError(f"namespace {name} exists already: one TwoHosts per process at a "
                             "time")
        first = not self._created
        self._created.append(name)  # before it exists: a signal may come at any point
        try:
            self._ip("netns", "add", name)
        except NetnsError as e:
            if first:
                raise NetnsUnavailable(f"cannot make a network namespace: {e}") from None
            raise
        # No IPv6 here: its link-local addresses, DAD and router solicitations would be the
        # only other packets on the link.
        if os.path.exists("/proc/sys/net/ipv6"):
            self._exec(name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                       "net.ipv6.conf.default.disable_ipv6=1")
        self._ip("link", "set", "lo", "up", ns=name)

    def _build(self):
        srv = self.server
        for host in self.hosts:
            self._add_namespace(host.name)
        if self.topology == "bridge":
            self._ip("link", "add", "name", "br0", "type", "bridge", ns=srv.name)
        for load in self.loads:
            port = f"gen{load.index}"
            # Both ends are made inside namespaces: nothing ever appears in the root namespace.
            self._ip("link", "add", "name", port, "type", "veth", "peer", "name", load.device,
                     "netns", load.name, ns=srv.name)
            if self.topology == "bridge":
                self._ip("link", "set", port, "master", "br0", ns=srv.name)
            batch = "".join(f"addr add {a}/{PREFIX_LEN} dev {load.device}\n"
                            for a in load.addresses)
            self._ip("-batch", "-", ns=load.name, input=batch)
            self._ip("link", "set", load.device, "up", ns=load.name)
            # tcp_tw_reuse=2 (the default) lets connect() reuse a TIME_WAIT port on loopback
            # only; on veth every closed client port would stay blocked for 60 s. Real load
            # generator hosts set 1, per namespace as here.
            self._exec(load.name, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1")
            self._set_rps(load)
        self._ip("addr", "add", f"{srv.address}/{PREFIX_LEN}", "dev", srv.device, ns=srv.name)
        for dev in srv.rx_devices:
            self._ip("link", "set", dev, "up", ns=srv.name)
        if self.topology == "bridge":
            self._ip("link", "set", "br0", "up", ns=srv.name)
        self._set_rps(srv)
        self.offloads = self._read_offloads()

    def _set_rps(self, host):
        """Steer the receive softirq of HOST's veth ends to HOST's CPUs. /sys/class/net shows
        the devices of the namespace /sys was mounted in, and `ip netns exec` mounts a fresh
        /sys for its namespace, so the write must run inside it."""
        mask = cpu_mask(host.cpus)
        for dev in host.rx_devices:
            path = f"/sys/class/net/{dev}/queues/rx-0/rps_cpus"
            self._exec(host.name, "sh", "-c", f"echo {mask} > {path}")
            got = self._exec(host.name, "cat", path).stdout.strip()
            if int(got.replace(",", ""), 16) != int(mask.replace(",", ""), 16):
                raise NetnsError(f"{host.name}: {path} reads {got}, wrote {mask}")

    def _read_offloads(self):
        """GRO/TSO/GSO of every veth end, as `ethtool -k` reports them; None without ethtool."""
        if not self.ethtool:
            return None
        keys = {"generic-receive-offload": "gro", "tcp-segmentation-offload": "tso",
                "generic-segmentation-offload": "gso"}
        offloads = {}
        for host in self.hosts:
            for dev in host.rx_devices:
                out = self._exec(host.name, self.ethtool, "-k", dev).stdout
                entry = {}
                for line in out.splitlines():
                    key, _, value = line.strip().partition(":")
                    if key in keys:
                        entry[keys[key]] = value.split()[0] == "on" if value.split() else None
                offloads[f"{host.name}/{dev}"] = entry
        return offloads

    def down(self, raise_errors=True):
        """Remove every namespace (and so every link) made here; safe to call twice, from a
        signal handler, or after a partial set-up. Returns the problems (raises them when
        raise_errors and there are any)."""
        with self._lock:
            if not self._up:
                return []
            self._up = False
            self._tearing_down = True
            atexit.unregister(self._atexit_down)
            problems = []
            links = {self.server.name: self.server.rx_devices +
                     (["br0"] if self.topology == "bridge" else [])}
            for name in reversed(self._created):
                problems += _remove_namespace(self.ip, name, links.get(name, ()))
            self._created = []
            self._tearing_down = False
            pending, self._pending_signal = self._pending_signal, None
            previous = self._previous.get(pending)
            self._restore_handlers()
        if pending is not None:
            self._deliver(pending, previous, None)
        if problems and raise_errors:
            raise NetnsError("; ".join(problems))
        return problems

    def _atexit_down(self):
        self.down(raise_errors=False)

    def _install_handlers(self):
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def _restore_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous = {}

    def _on_signal(self, signum, frame):
        """Tear down, then let the signal do what it did before: Python's SIGINT handler
        raises KeyboardInterrupt, a default SIGTERM ends the process by the signal. A signal
        that comes during the teardown waits for its end."""
        if self._tearing_down:
            self._pending_signal = signum
            return
        previous = self._previous.get(signum)
        self.down(raise_errors=False)
        self._deliver(signum, previous, frame)

    @staticmethod
    def _deliver(signum, previous, frame):
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            os.kill(os.getpid(), signum)  # our handler is gone: the default action now

    # ------------------------------------------------------------------ for results.json

    def describe(self):
        def host(h):
            d = {"namespace": h.name, "cpus": h.cpus, "rps_cpus": cpu_mask(h.cpus),
                 "device": h.device, "rx_devices": h.rx_devices}
            if h.role == "server":
                d["address"] = h.address
            else:
                d.update(addresses=h.addresses, source_base=h.source_base,
                         source_addresses=h.source_addresses,
                         sysctl={"net.ipv4.tcp_tw_reuse": 1})
            return d
        return {
            "net": "veth",
            "topology": self.topology,
            "network": str(NETWORK),
            "server": host(self.server),
            "load_hosts": [host(h) for h in self.loads],
            "offloads": self.offloads,
            "offloads_note": None if self.ethtool else "ethtool not installed: not recorded",
            "ipv6": False,
            "stale_removed": self.stale_removed,
        }


# ---------------------------------------------------------------------- command line

def _cpu_list(text):
    try:
        return procfs.cpu_list(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _status(prefix):
    ip = _tool("ip")
    rows = owned_namespaces(prefix)
    if not rows:
        print(f"no {prefix}-* namespaces")
        return
    for name, pid, alive in rows:
        addrs = _run([ip, "-n", name, "-o", "-4", "addr", "show"], check=False).stdout
        quads = [f.split("/")[0] for line in addrs.splitlines()
                 for f in line.split()[3:4] if not f.startswith("127.")]
        shown = quads[0] if len(quads) == 1 else (f"{quads[0]} .. {quads[-1]} ({len(quads)})"
                                                   if quads else "-")
        state = "owner running" if alive else "owner dead (stale: cleanup removes it)"
        inside = _pids_in(ip, name)
        print(f"{name:24} {shown:34} pid {pid} {state}"
              + (f"; processes inside: {inside}" if inside else ""))


def _down(prefix, pid):
    ip = _tool("ip")
    rows = owned_namespaces(prefix)
    owners = sorted({p for _, p, _ in rows})
    if pid is None:
        if len(owners) != 1:
            print(f"netns down: {len(owners)} owners ({owners or 'none'}); name one", file=sys.stderr)
            return 1 if owners else 0
        pid = owners[0]
    names = [n for n, p, _ in rows if p == pid]
    if not names:
        print(f"netns down: no {prefix}-{pid}-* namespaces", file=sys.stderr)
        return 1
    if _pid_alive(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            cmdline = ""
        if "tcplab_suite.netns" not in cmdline or " up" not in cmdline:
            print(f"netns down: pid {pid} is running and is not `netns up` ({cmdline.strip()!r}); "
                  "stop it and it removes its namespaces itself", file=sys.stderr)
            return 1
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"stopped `netns up` {pid}")
        return 0
    problems = []
    for name in names:
        problems += _remove_namespace(ip, name)
        print(f"removed {name}")
    for p in problems:
        print(f"netns down: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None):
    ncpu = os.cpu_count() or 1
    parser = argparse.ArgumentParser(
        prog="python3 -m tcplab_suite.netns",
        description="Two hosts on one machine: a server network namespace and load-generator "
                    "namespaces joined by veth, addressed from 198.18.0.0/15 (RFC 2544), each "
                    "side's receive softirq steered to its own CPUs by RPS. Needs root. Run "
                    "from bench/.",
        epilog="up keeps the namespaces until Ctrl-C or SIGTERM, then removes them; "
               "a SIGKILLed up leaves them for `cleanup` (or the next up).")
    parser.add_argument("--prefix", default="tcplab", help="namespace name prefix (default tcplab)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="make the namespaces, print how to use them, wait for Ctrl-C")
    up.add_argument("--load-hosts", type=int, default=1, metavar="K",
                    help="generator namespaces: 1 joins them by a veth pair, more by a bridge")
    up.add_argument("--server-cpus", type=_cpu_list, default=[0], metavar="LIST",
                    help="CPUs of the server's receive softirq (default 0)")
    up.add_argument("--load-cpus", type=_cpu_list, action="append", metavar="LIST",
                    help="CPUs of a generator's receive softirq; once for all generators or once "
                         "per generator (default %d)" % (1 if ncpu > 1 else 0))
    up.add_argument("--source-addresses", type=int, default=16, metavar="N",
                    help="addresses per generator, 198.18.K.1 .. 198.18.K.N (default 16)")
    sub.add_parser("status", help="list the PREFIX-* namespaces, their addresses and owners")
    down = sub.add_parser("down", help="stop an `up` (SIGTERM) or remove the namespaces of a "
                                       "dead owner")
    down.add_argument("pid", type=int, nargs="?",
                      help="the owner pid in the names (default: the only one)")
    sub.add_parser("cleanup", help="remove the namespaces whose owner is dead")
    args = parser.parse_args(argv)

    if args.command == "status":
        _status(args.prefix)
        return 0
    if os.geteuid() != 0:
        print(f"netns {args.command}: needs root", file=sys.stderr)
        return 1
    if args.command == "cleanup":
        removed = cleanup_stale(args.prefix)
        print("removed " + " ".join(removed) if removed else "nothing stale")
        return 0
    if args.command == "down":
        return _down(args.prefix, args.pid)

    try:
        net = TwoHosts(load_hosts=args.load_hosts, server_cpus=args.server_cpus,
                       load_cpus=args.load_cpus or [[1 if ncpu > 1 else 0]], prefix=args.prefix,
                       source_addresses=args.source_addresses)
    except ValueError as e:
        parser.error(str(e))
    def stop(signum, frame):
        raise KeyboardInterrupt  # TwoHosts calls this after its teardown
    signal.signal(signal.SIGTERM, stop)
    try:
        net.up()
    except NetnsError as e:
        print(f"netns up: {e}", file=sys.stderr)
        return 1
    try:
        srv = net.server
        print(f"server     {srv.name:24} {srv.address:28} softirq on CPUs {srv.cpus}")
        for h in net.loads:
            span = f"{h.addresses[0]} .. {h.addresses[-1]}"
            print(f"generator  {h.name:24} {span:28} softirq on CPUs {h.cpus}")
        load = net.loads[0]
        source = " ".join(load.load_args())
        print(f"\ntry, from the top of the tree:\n"
              f"  ip netns exec {srv.name} taskset -c {srv.cpus[0]} build/bin/tcplab-server "
              f"epoll --host {srv.address} &\n"
              f"  ip netns exec {load.name} build/bin/tcplab-load --host {srv.address} "
              f"--port 9877 {source} --cpu {load.cpus[0]}\n"
              f"\nup until Ctrl-C (or: python3 -m tcplab_suite.netns down {net.owner})",
              flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        net.down(raise_errors=False)
    print("removed " + " ".join(h.name for h in net.hosts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
