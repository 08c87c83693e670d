"""Cross-process calls: amidl's CLSCTX_LOCAL_SERVER against hand-written
UNIX-socket floors and the Linux RPC systems, each contender a server
process and a client process (bench/oop/*.c, *.cc; the protocol they speak
with this driver is in bench/oop/harness.h).

The job: Add(a, b) -> a + b, two ints in, one out. Round trip: one call at
a time, microseconds per call. Pipelined: 64 calls in flight, calls per
second. CPU time per call: getrusage of both processes (the client around
its calls, the server before and after them). Peak RSS: VmHWM of each.

Method (the one bench/runtime_bench.c uses): this VM's speed changes from
one second to the next, so every contender is measured once per round, a
round being a fraction of a second per contender, in an order that rotates
from round to round; every ratio is taken within its round, and the report
gives the median over the rounds and the range of their middle half.

Placement: the main table pins both processes (every thread) to one CPU
with taskset; the second pins the server to one CPU and the client to the
other. A contender whose executable did not build, whose server did not
start, or that fails is reported as n/a with the reason; the others go on.

usage: oop.py BUILD_DIR   (environment: OOP_ROUNDS, default 9; OOP_ROUNDS2,
default 5, the two-CPU table; OOP_SECONDS, default 0.15, per measurement).
A contender whose executable is missing from BUILD_DIR is n/a: a directory
holding only some of them measures only those. BUILD_DIR/amidl-base, when
there, is another amidl build measured in the same rounds (before/after).
"""
import os, select, shutil, statistics, subprocess, sys, tempfile, time

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build/bench/oop"
ROUNDS = max(1, int(os.environ.get("OOP_ROUNDS", "9")))
ROUNDS2 = max(0, int(os.environ.get("OOP_ROUNDS2", "5")))
SECONDS = float(os.environ.get("OOP_SECONDS", "0.15"))
TIMEOUT = 30.0

CONTENDERS = [
    ("sock", "UNIX socket, blocking (floor)"),
    ("epoll", "epoll + client I/O thread"),
    ("sdbus", "sd-bus, peer to peer"),
    ("gdbus", "GDBus codegen proxy, p2p"),
    ("grpc", "gRPC C++ (sync; async CQ)"),
    ("capnp", "Cap'n Proto EzRpc"),
    ("amidl", "amidl LOCAL_SERVER (COM)"),
]
REF = "epoll"
# a second amidl build measured in the same rounds (before/after a change):
# BUILD_DIR/amidl-base, when it exists; the targets are given for it too
if os.access(os.path.join(BUILD, "amidl-base"), os.X_OK):
    CONTENDERS.append(("amidl-base", "amidl, base build"))


class Failed(Exception):
    pass


class Proc:
    """a child answering one line per command line"""

    def __init__(self, argv, env, log, what):
        self.what = what
        self.log = log
        with open(log, "wb") as err:
            self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                      env=env, bufsize=0)
        self.buf = b""

    def line(self, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise Failed(f"{self.what} timed out")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 4096)
                if not chunk:
                    tail = ""
                    try:
                        with open(self.log, errors="replace") as f:
                            tail = f.read().strip().splitlines()[-1:]
                            tail = f": {tail[0][:100]}" if tail else ""
                    except OSError:
                        pass
                    raise Failed(f"{self.what} exited{tail}")
                self.buf += chunk
        l, self.buf = self.buf.split(b"\n", 1)
        l = l.decode(errors="replace")
        if l.startswith("error"):
            raise Failed(f"{self.what}: {l[6:]}")
        return l

    def ask(self, cmd, timeout=TIMEOUT):
        try:
            self.p.stdin.write(cmd.encode() + b"\n")
        except OSError:
            raise Failed(f"{self.what} is gone")
        l = self.line(timeout)
        if not l.startswith("ok"):
            raise Failed(f"{self.what} said {l!r}")
        return [float(x) for x in l.split()[1:]]

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class Pair:
    def __init__(self, key, name):
        self.key, self.name = key, name
        self.server = self.client = None
        self.error = None
        self.rt, self.pipe, self.cpu_rt, self.cpu_pipe = {}, {}, {}, {}
        self.rss = None
        self.allocs = None

    def start(self, tmp, scpu, ccpu):
        exe = os.path.join(BUILD, self.key)
        if not os.access(exe, os.X_OK):
            self.error = f"not built, see {os.path.join(BUILD, self.key + '.build.log')}"
            return
        # a runtime directory of its own: two amidl builds (amidl, amidl-base)
        # register the same class, and each client must find its own server
        own = os.path.join(tmp, self.key)
        os.makedirs(own, mode=0o700, exist_ok=True)
        env = dict(os.environ, XDG_RUNTIME_DIR=own)
        env.pop("AMIDL_RUNDIR", None)
        path = os.path.join(tmp, self.key + ".sock")
        try:
            self.server = Proc(["taskset", "-c", scpu, exe, "server", path], env,
                               os.path.join(BUILD, self.key + ".server.log"), "server")
            if self.server.line(20) != "ready":
                raise Failed("server did not start")
            self.client = Proc(["taskset", "-c", ccpu, exe, "client", path], env,
                               os.path.join(BUILD, self.key + ".client.log"), "client")
            if self.client.line(20) != "ready":
                raise Failed("client did not connect")
            # warm up, then size the measurements to about SECONDS each
            self.client.ask("rt 50")
            t, _ = self.client.ask("rt 200")
            self.n_rt = int(min(max(SECONDS / (t / 200), 100), 200000))
            self.client.ask("pipe 640")
            t, _ = self.client.ask("pipe 2560")
            self.n_pipe = int(min(max(SECONDS * 2560 / t, 640), 2000000)) // 64 * 64
        except Failed as e:
            self.fail(str(e))

    def fail(self, why):
        if not self.error:
            self.error = why
        self.stop()

    def measure(self, r):
        if self.error:
            return
        try:
            for kind, n in (("rt", self.n_rt), ("pipe", self.n_pipe)):
                s0, = self.server.ask("cpu")
                wall, ccpu = self.client.ask(f"{kind} {n}")
                s1, = self.server.ask("cpu")
                cpu = (ccpu + s1 - s0) / n * 1e6
                if kind == "rt":
                    self.rt[r], self.cpu_rt[r] = wall / n * 1e6, cpu
                else:
                    self.pipe[r], self.cpu_pipe[r] = n / wall, cpu
        except Failed as e:
            self.fail(str(e))

    def finish(self):
        if self.error:
            return
        try:
            c, = self.client.ask("rss")
            s, = self.server.ask("rss")
            self.rss = (c, s)
            if self.key.startswith("amidl"):
                try:
                    m0, = self.server.ask("count")
                    rt, cm = self.client.ask("allocs 20000")
                    m1, = self.server.ask("count")
                    self.allocs = (rt, cm, (m1 - m0) / 20000)
                except Failed as e:
                    self.allocs = str(e)
        except Failed as e:
            self.fail(str(e))
        self.stop()

    def stop(self):
        for p in (self.client, self.server):
            if p:
                p.stop()
        self.client = self.server = None


def stat(v):
    """median and the middle half's range"""
    v = sorted(v)
    if not v:
        return None
    q = len(v) // 4
    return statistics.median(v), v[q], v[len(v) - 1 - q]


def ratios(a, b, inverse=False):
    """the in-round ratios a/b (b/a when inverse) over the rounds both have"""
    return [(b[r] / a[r]) if inverse else (a[r] / b[r]) for r in a if r in b and a[r] and b[r]]


def table(title, scpu, ccpu, rounds):
    tmp = tempfile.mkdtemp(prefix="amidl-oop-")
    os.chmod(tmp, 0o700)
    pairs = [Pair(k, n) for k, n in CONTENDERS]
    try:
        for p in pairs:
            p.start(tmp, scpu, ccpu)
        for r in range(rounds):
            k = r % len(pairs)
            for p in pairs[k:] + pairs[:k]:
                p.measure(r)
        for p in pairs:
            p.finish()
    finally:
        for p in pairs:
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    ref = next(p for p in pairs if p.key == REF)
    print(f"\n{title}; {rounds} rounds, medians [middle half of the rounds]; ratios within each round vs {REF}")
    print(f"{'':30s} {'round trip':>22s} {'vs epoll':>8s} {'pipelined (64)':>24s} {'vs epoll':>8s}"
          f" {'CPU/call rt':>11s} {'pipe':>8s} {'RSS cli+srv':>13s}")
    for p in pairs:
        if p.error or not p.rt:
            print(f"{p.name:30s} n/a ({p.error or 'no measurement'})")
            continue
        t, tl, th = stat(p.rt.values())
        q, ql, qh = stat(p.pipe.values())
        rr = stat(ratios(p.rt, ref.rt)) if ref.rt else None
        pr = stat(ratios(p.pipe, ref.pipe)) if ref.pipe else None
        rss = f"{p.rss[0] / 1024:5.1f}+{p.rss[1] / 1024:5.1f} MiB" if p.rss else "n/a"
        rts = f"{t:7.1f} us [{tl:.1f}-{th:.1f}]"
        pipes = f"{q / 1e3:.0f} k/s [{ql / 1e3:.0f}-{qh / 1e3:.0f}]"
        rrs = f"{rr[0]:.2f}x" if rr else "n/a"
        prs = f"{pr[0]:.2f}x" if pr else "n/a"
        cpu = f"{stat(p.cpu_rt.values())[0]:8.1f} us {stat(p.cpu_pipe.values())[0]:5.2f} us"
        print(f"{p.name:30s} {rts:>22s} {rrs:>8s} {pipes:>24s} {prs:>8s} {cpu} {rss:>13s}")
        if p.error:
            print(f"{'':30s} (stopped after round {max(p.rt) + 1}: {p.error})")
    return {p.key: p for p in pairs}


def targets(ps, key="amidl"):
    a = ps[key]
    print(f"\ntargets (issue #12, medians of the in-round ratios, both processes on one CPU){'' if key == 'amidl' else ', ' + key}:")
    if a.error or not a.rt:
        print(f"  amidl: n/a ({a.error or 'no measurement'})")
        return

    def line(what, vals, goal, at_most):
        s = stat(vals)
        if not s:
            print(f"  {what:52s} n/a")
            return
        ok = s[0] <= goal if at_most else s[0] >= goal
        print(f"  {what:52s} {s[0]:7.2f}x [{s[1]:.2f}-{s[2]:.2f}]  target {'<=' if at_most else '>='}"
              f" {goal:g}x: {'met' if ok else 'not met'}")

    def peer(k):
        return ps[k] if not ps[k].error or ps[k].rt else None

    for k, what, goal in (("epoll", "round trip / epoll + I/O thread's", 1.3), ("sdbus", "round trip / sd-bus's", 1.0)):
        if peer(k):
            line(what, ratios(a.rt, ps[k].rt), goal, True)
        else:
            print(f"  {what:52s} n/a ({k}: {ps[k].error})")
    for k, what, goal in (("epoll", "pipelined / epoll + I/O thread's", 1.0), ("sdbus", "pipelined / sd-bus's", 5.0),
                          ("grpc", "pipelined / gRPC's", 20.0)):
        if peer(k):
            line(what, ratios(a.pipe, ps[k].pipe), goal, False)
        else:
            print(f"  {what:52s} n/a ({k}: {ps[k].error})")
    if isinstance(a.allocs, tuple):
        rt, cm, sm = a.allocs
        print(f"  heap allocations per call, reused call object: runtime {rt:.2f}, client malloc {cm:.2f},"
              f" server malloc {sm:.2f}; target 0: {'met' if rt == 0 and cm == 0 and sm == 0 else 'not met'}")
    else:
        print(f"  heap allocations per call: n/a ({a.allocs})")


def main():
    cpus = sorted(os.sched_getaffinity(0))
    if not shutil.which("taskset"):
        print("cross-process: n/a (taskset not found; util-linux)")
        return
    one = str(cpus[-1])
    print("cross-process calls: Add(a, b), two ints in, one out; each contender a server and a client process")
    ps = table(f"both processes on CPU {one}", one, one, ROUNDS)
    targets(ps)
    if "amidl-base" in ps:
        targets(ps, "amidl-base")
    if len(cpus) > 1 and ROUNDS2:
        table(f"two CPUs: server on CPU {cpus[0]}, client on CPU {cpus[-1]}", str(cpus[0]), str(cpus[-1]), ROUNDS2)


main()
