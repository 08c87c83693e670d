"""amidl benchmarks: front end (--check) against widl -h, on the corpus,
objidlbase.idl and generated files of N typedef'd structs.

Each command runs as a child of build/bench/run1 (wall time, CPU time and
peak RSS of the child alone). Results are ratios against widl measured
in this same run, amidl and widl taking turns file by file (this
machine is a noisy 2-core VM).

BENCH_ONLY=corpus,headers,objidlbase,structs,chain (any of them, comma
separated) runs only those sections; unset, all of them."""
import os, subprocess, sys, tempfile

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
corpus = os.path.join(shared, "corpus")
widl = os.path.abspath(os.path.join(shared, "tools", "widl"))
amidl = os.path.abspath("bin/amidl")
inc = ["-DBOOL=WINBOOL", "-I", corpus + "/mingw-w64", "-I", corpus + "/mingw-w64-include"]
skip = {"axcore.idl", "axextend.idl", "dyngraph.idl", "mulres.idl", "xmldom.idl", "xmldso.idl", "wincrypt.idl"}

RUN1 = os.path.abspath("build/bench/run1")
GEN_CHAIN = os.path.abspath("tests/scale/gen_chain.py")
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))

def want(section):
    return not ONLY or section in ONLY

def run(cmd, cwd=None):
    """(seconds, peak RSS in KiB, exit code, CPU seconds) of one command,
    measured by the small run1 helper so that Python's own pages do not count."""
    p = subprocess.run([RUN1, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, text=True)
    s, rss, rc, cpu = p.stderr.split()[-4:]
    return float(s), int(rss), int(rc), float(cpu)

def measure(files, make_cmds, out, per_file=None):
    """Each file run by every command of make_cmds in turn (paired: a
    burst of load from elsewhere hits both compilers alike), returning
    per command (total seconds, peak RSS, failures, total CPU seconds);
    per_file, if given, is a list (one dict per command) that gets each
    file's (seconds, RSS, CPU seconds)."""
    res = [[0.0, 0, 0, 0.0] for _ in make_cmds]
    for f in files:
        for i, make_cmd in enumerate(make_cmds):
            t, rss, rc, cpu = run(make_cmd(f, out))
            r = res[i]
            r[0] += t
            r[1] = max(r[1], rss)
            r[2] += rc != 0
            r[3] += cpu
            if per_file is not None:
                per_file[i][f] = (t, rss, cpu)
    return [tuple(r) for r in res]

def rss_summary(name, a_files, w_files):
    """Per-file peak RSS of amidl against widl's on the same file."""
    ratios = sorted(((a_files[f][1] / max(w_files[f][1], 1), f) for f in a_files if f in w_files), reverse=True)
    above = [(r, f) for r, f in ratios if r > 1.0]
    worst = ", ".join(f"{os.path.basename(f)} {r:.2f}x" for r, f in above[:5])
    print(f"{name:34s} per-file peak RSS: above widl's on {len(above)} of {len(ratios)} files"
          + (f" (worst: {worst})" if above else "") + f"; max {ratios[0][0]:.2f}x, median {ratios[len(ratios) // 2][0]:.2f}x of widl")

def line(name, a, w):
    ratio = w[0] / a[0] if a[0] else float("inf")
    cpu = w[3] / a[3] if a[3] else float("inf")
    print(f"{name:34s} amidl {a[0]:8.3f} s  {a[1]/1024:7.1f} MiB | widl {w[0]:8.3f} s  {w[1]/1024:7.1f} MiB"
          f" | amidl is {ratio:5.2f}x faster ({cpu:4.2f}x in CPU time), memory {a[1]/max(w[1],1):4.2f}x of widl")

def largest(paths, out, n=20, rounds=3):
    """The n largest corpus files, each run rounds times alternating amidl
    and widl (best wall and CPU time of each, peak RSS of the last run)."""
    big = sorted(paths, key=lambda f: (-os.path.getsize(f), f))[:n]
    print(f"\nthe {n} largest corpus files: amidl --check vs widl -h, best of {rounds} alternating runs")
    print(f"{'file':42s} {'amidl s':>8s} {'widl s':>8s} {'faster':>7s} {'(CPU)':>7s}"
          f" {'amidl MiB':>9s} {'widl MiB':>9s} {'RSS':>6s}")
    ta = tw = ca = cw = 0.0
    worst = 0.0
    above = 0
    for f in big:
        ra = [run([amidl, "--check", "-w", *inc, f]) for _ in range(1)]
        rw = [run([widl, *inc, "-h", "-H", out + "/x.h", f]) for _ in range(1)]
        for _ in range(rounds - 1):
            ra.append(run([amidl, "--check", "-w", *inc, f]))
            rw.append(run([widl, *inc, "-h", "-H", out + "/x.h", f]))
        a_t, w_t = min(r[0] for r in ra), min(r[0] for r in rw)
        a_c, w_c = min(r[3] for r in ra), min(r[3] for r in rw)
        a_m, w_m = ra[-1][1], rw[-1][1]
        if any(r[2] for r in ra) or any(r[2] for r in rw):
            print(f"{os.path.basename(f):42s} FAILED (amidl exit {[r[2] for r in ra]}, widl exit {[r[2] for r in rw]})")
            continue
        ta += a_t; tw += w_t; ca += a_c; cw += w_c
        worst = max(worst, a_m / max(w_m, 1))
        above += a_m > w_m
        print(f"{os.path.basename(f):42s} {a_t:8.4f} {w_t:8.4f} {w_t / a_t:6.2f}x {w_c / max(a_c, 1e-6):6.2f}x"
              f" {a_m / 1024:9.1f} {w_m / 1024:9.1f} {a_m / max(w_m, 1):5.2f}x")
    print(f"{'total':42s} {ta:8.4f} {tw:8.4f} {tw / ta:6.2f}x {cw / max(ca, 1e-6):6.2f}x"
          f"  peak RSS above widl's on {above} of {len(big)}, max {worst:.2f}x of widl")
    print(f"(target: amidl at least 2x faster, peak RSS at or below widl's on every file)\n")

def main():
    files = sorted(f for f in os.listdir(corpus + "/mingw-w64") if f.endswith(".idl") and f not in skip)
    paths = [os.path.join(corpus, "mingw-w64", f) for f in files]
    have_widl = os.access(widl, os.X_OK)
    with tempfile.TemporaryDirectory() as out:
        if want("corpus"):
            print(f"front end: amidl --check vs widl -h ({len(paths)} corpus files)")
            a_files, w_files = {}, {}
            cmds = [lambda f, o: [amidl, "--check", "-w", *inc, f]]
            if have_widl:
                cmds.append(lambda f, o: [widl, *inc, "-h", "-H", o + "/x.h", f])
            res = measure(paths, cmds, out, [a_files, w_files])
            a = res[0]
            if have_widl:
                w = res[1]
                line("corpus (whole)", a, w)
                rss_summary("corpus (whole)", a_files, w_files)
                largest(paths, out)
        # header generation: amidl FILE.idl (FILE.h + FILE_i.c) vs widl -h -u
        if want("headers"):
            gen = [p for p in paths if not os.path.basename(p).startswith("windows.")]
            print(f"\nheaders: amidl (FILE.h + FILE_i.c) vs widl -h -u ({len(gen)} non-WinRT corpus files)")
            cmds = [lambda f, o: [amidl, "-w", "--no-glue", *inc, "--outdir", o, f]]
            if have_widl:
                cmds.append(lambda f, o: [widl, *inc, "-h", "-H", o + "/w.h", "-u", "-U", o + "/w_i.c", f])
            res = measure(gen, cmds, out)
            a = res[0]
            if have_widl:
                w = res[1]
                line("corpus headers (whole)", a, w)
            print()
        if want("objidlbase"):
            obj = os.path.join(corpus, "mingw-w64", "objidlbase.idl")
            a1 = min((run([amidl, "--check", "-w", *inc, obj]) for _ in range(5)), key=lambda r: r[0])
            if have_widl:
                w1 = min((run([widl, *inc, "-h", "-H", out + "/x.h", obj]) for _ in range(5)), key=lambda r: r[0])
                line("objidlbase.idl (best of 5)", a1, w1)
        if want("structs"):
            print("\nlinear growth: N typedef'd structs (widl 11.12 is quadratic: 10k 2.2 s, 20k 8.2 s, 40k 39 s)")
            for n in (10000, 160000):
                p = os.path.join(out, f"s{n}.idl")
                with open(p, "w") as f:
                    for i in range(n):
                        f.write(f"typedef struct S{i} {{ int a; long b; struct S{i} *next; }} S{i}, *PS{i};\n")
                t = run([amidl, "--check", p])
                th = run([amidl, "--outdir", out, p])
                msg = (f"  {n:6d} structs: amidl --check {t[0]:6.3f} s, {t[1]/1024:7.1f} MiB"
                       f" ({t[1] * 1024 // n} bytes/struct);"
                       f" with headers {th[0]:6.3f} s, {th[1]/1024:7.1f} MiB ({th[1] * 1024 // n} bytes/struct)")
                if have_widl and n <= 10000:
                    tw = run([widl, "-h", "-H", out + "/y.h", p], cwd=out)
                    msg += f" | widl -h {tw[0]:6.3f} s ({tw[0]/t[0]:.1f}x)"
                print(msg + ("  (target: 160k under 3 s, at most 1 KiB/struct)" if n == 160000 else ""))
        if want("chain"):
            # widl -h writes each interface's vtable with the whole chain in
            # it (quadratic output: 20k deep is gigabytes), so it is not run
            print("\ninterface base chains: amidl --check (absolute; widl -h writes every vtable of the chain in full)")
            for form in ("forward", "reverse"):
                p = os.path.join(out, f"chain_{form}.idl")
                subprocess.run([sys.executable, GEN_CHAIN, p, "20000", form], check=True)
                t = min((run([amidl, "--check", "-w", "-I", "runtime/idl", p]) for _ in range(3)), key=lambda r: r[0])
                print(f"  20k-deep base chain, --check ({form:7s}): {t[0]:6.3f} s (CPU {t[3]:6.3f} s), {t[1]/1024:7.1f} MiB"
                      + ("" if t[2] == 0 else f"  FAILED (exit {t[2]})"))
main()
