"""amidl benchmarks: front end (--check) against widl -h, on the corpus,
objidlbase.idl and generated files of N typedef'd structs.

Each command runs as a child; wall time comes from time.perf_counter and
peak RSS from os.wait4's rusage. Results are ratios against widl measured
in this same run (this machine is a noisy 2-core VM)."""
import os, subprocess, sys, tempfile

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
corpus = os.path.join(shared, "corpus")
widl = os.path.abspath(os.path.join(shared, "tools", "widl"))
amidl = os.path.abspath("bin/amidl")
inc = ["-DBOOL=WINBOOL", "-I", corpus + "/mingw-w64", "-I", corpus + "/mingw-w64-include"]
skip = {"axcore.idl", "axextend.idl", "dyngraph.idl", "mulres.idl", "xmldom.idl", "xmldso.idl", "wincrypt.idl"}

RUN1 = os.path.abspath("build/bench/run1")

def run(cmd, cwd=None):
    """(seconds, peak RSS in KiB, exit code) of one command, measured by
    the small run1 helper so that Python's own pages do not count."""
    p = subprocess.run([RUN1, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, text=True)
    s, rss, rc = p.stderr.split()[-3:]
    return float(s), int(rss), int(rc)

def measure(files, make_cmd, out):
    total, peak, failed = 0.0, 0, 0
    for f in files:
        t, rss, rc = run(make_cmd(f, out))
        total += t
        peak = max(peak, rss)
        failed += rc != 0
    return total, peak, failed

def line(name, a, w):
    ratio = w[0] / a[0] if a[0] else float("inf")
    print(f"{name:34s} amidl {a[0]:8.3f} s  {a[1]/1024:7.1f} MiB | widl {w[0]:8.3f} s  {w[1]/1024:7.1f} MiB"
          f" | amidl is {ratio:5.2f}x faster, memory {a[1]/max(w[1],1):4.2f}x of widl")

def main():
    files = sorted(f for f in os.listdir(corpus + "/mingw-w64") if f.endswith(".idl") and f not in skip)
    paths = [os.path.join(corpus, "mingw-w64", f) for f in files]
    have_widl = os.access(widl, os.X_OK)
    with tempfile.TemporaryDirectory() as out:
        print(f"front end: amidl --check vs widl -h ({len(paths)} corpus files)")
        a = measure(paths, lambda f, o: [amidl, "--check", "-w", *inc, f], out)
        if have_widl:
            w = measure(paths, lambda f, o: [widl, *inc, "-h", "-H", o + "/x.h", f], out)
            line("corpus (whole)", a, w)
        # header generation: amidl FILE.idl (FILE.h + FILE_i.c) vs widl -h -u
        gen = [p for p in paths if not os.path.basename(p).startswith("windows.")]
        print(f"\nheaders: amidl (FILE.h + FILE_i.c) vs widl -h -u ({len(gen)} non-WinRT corpus files)")
        a = measure(gen, lambda f, o: [amidl, "-w", "--no-glue", *inc, "--outdir", o, f], out)
        if have_widl:
            w = measure(gen, lambda f, o: [widl, *inc, "-h", "-H", o + "/w.h", "-u", "-U", o + "/w_i.c", f], out)
            line("corpus headers (whole)", a, w)
        print()
        obj = os.path.join(corpus, "mingw-w64", "objidlbase.idl")
        a1 = min((run([amidl, "--check", "-w", *inc, obj]) for _ in range(5)), key=lambda r: r[0])
        if have_widl:
            w1 = min((run([widl, *inc, "-h", "-H", out + "/x.h", obj]) for _ in range(5)), key=lambda r: r[0])
            line("objidlbase.idl (best of 5)", a1, w1)
        print("\nlinear growth: N typedef'd structs (widl 11.12 is quadratic: 10k 2.2 s, 20k 8.2 s, 40k 39 s)")
        for n in (10000, 160000):
            p = os.path.join(out, f"s{n}.idl")
            with open(p, "w") as f:
                for i in range(n):
                    f.write(f"typedef struct S{i} {{ int a; long b; struct S{i} *next; }} S{i}, *PS{i};\n")
            t = run([amidl, "--check", p])
            th = run([amidl, "--outdir", out, p])
            msg = (f"  {n:6d} structs: amidl --check {t[0]:6.3f} s, {t[1]/1024:7.1f} MiB;"
                   f" with headers {th[0]:6.3f} s, {th[1]/1024:7.1f} MiB")
            if have_widl and n <= 10000:
                tw = run([widl, "-h", "-H", out + "/y.h", p], cwd=out)
                msg += f" | widl -h {tw[0]:6.3f} s ({tw[0]/t[0]:.1f}x)"
            print(msg + ("  (target: 160k under 3 s)" if n == 160000 else ""))

main()
