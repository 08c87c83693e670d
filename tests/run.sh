#!/usr/bin/env bash
# tests/run.sh - the whole test suite. Run from the project root (make test).
# Every check counts as one test; the last line is "N passed, N failed" and
# the exit status is non-zero when anything failed.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
BUILD=${BUILD:-build}
AMIDL=${AMIDL:-bin/amidl}
CORPUS=$SHARED/corpus
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

# Run a command with a time limit; a hang is a failure, not a stuck suite.
run() { timeout 60 "$@"; }

# Only the diagnostic lines of amidl's stderr (not the source excerpt).
diags() { grep -E '^[^ ].*: (error|warning|fatal error): |^amidl: ' || true; }

# ---------------------------------------------------------------- unit tests
section() { echo "== $*"; }

section "unit: preprocessor"
if out=$(run "$BUILD/tests/test_pp" 2>&1); then ok; else bad "unit tests"; echo "$out" | grep FAIL; fi

section "runtime: libamidlrt (tests/runtime, each test in its own process with a time limit)"
for t in core sync pool callobj stress e2e; do
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok ;;
            "FAIL "*) bad "runtime $t: ${line#FAIL }" ;;
        esac
    done < <(run "$BUILD/tests/test-$t" 2>&1)
done
section "runtime: the call-object tests again with AMRT_SPIN_US=0 (every wait sleeps, no worker lingers)"
for t in callobj stress e2e; do
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok ;;
            "FAIL "*) bad "runtime $t (AMRT_SPIN_US=0): ${line#FAIL }" ;;
        esac
    done < <(AMRT_SPIN_US=0 run "$BUILD/tests/test-$t" 2>&1)
done
soak=${AMRT_SOAK_SECONDS:-60}
section "runtime: soak, ${soak} s (AMRT_SOAK_SECONDS sets it; make soak runs 300)"
while IFS= read -r line; do
    case "$line" in
        "ok "*) ok ;;
        "FAIL "*) bad "runtime soak: ${line#FAIL }" ;;
        "soak: "*) echo "   $line" ;;
    esac
done < <(AMRT_SOAK_SECONDS=$soak AMRT_TEST_TIMEOUT=$((${soak%.*} + 120)) timeout $((${soak%.*} + 180)) "$BUILD/tests/test-soak" 2>&1)
if command -v valgrind >/dev/null; then
    for t in core sync pool callobj e2e; do
        check "runtime $t tests clean under valgrind (no error, no leak)" \
            valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
            "$BUILD/tests/test-$t" >/dev/null 2>&1
    done
fi
cat > "$TMP/cxx.cc" <<'CEOF'
#define COBJMACROS
#include "amidlrt.h"
int main()
{
    ISynchronize *s = nullptr;
    if (FAILED(CoInitializeEx(nullptr, COINIT_MULTITHREADED))) return 1;
    if (FAILED(CoCreateInstance(CLSID_ManualResetEvent, nullptr, CLSCTX_INPROC_SERVER, IID_ISynchronize, (void **)&s))) return 2;
    s->Signal();
    HRESULT hr = s->Wait(0, 0);
    s->Release();
    CoUninitialize();
    return hr == S_OK && IsEqualIID(IID_ISynchronize, IID_ISynchronize) ? 0 : 3;
}
CEOF
check "amidlrt.h from C++ (REFIID references, C++ vtables), linked to the shared library" bash -c \
    "g++ -std=c++11 -Wall -Werror -Iruntime/include -I$BUILD/runtime/include -o '$TMP/cxx' '$TMP/cxx.cc' -L$BUILD/lib -lamidlrt -pthread && LD_LIBRARY_PATH=$BUILD/lib '$TMP/cxx'"
check "libamidlrt.so exports only its API (no amrt__ internals)" bash -c "! nm -D --defined-only $BUILD/lib/libamidlrt.so | grep -q amrt__"

section "samples: simplestream end to end (its output is checked, not just its exit code)"
out=$(run "$BUILD/samples/simplestream/client" 2>&1); rc=$?
check "simplestream exits 0" test $rc -eq 0
for want in "1. QueryInterface(IID_ICallFactory) .*-> S_OK" \
            "2. CreateCall(IID_AsyncISimpleStream), release the factory -> S_OK" \
            "4. Begin_Read(cb = 64) .*-> S_OK" \
            "a second Begin_ while the call is pending .*-> RPC_E_CALL_PENDING" \
            "Wait(50 ms) until the call is done .*-> RPC_E_TIMEOUT x[1-9][0-9]*, then S_OK" \
            "Finish_Read(buf, &cbRead) .*-> S_OK" \
            'read 44 bytes: "The quick brown fox jumps over the lazy dog."' \
            "Finish_ with no call in progress .*-> RPC_E_CALL_COMPLETE" \
            "Finish_Write(&cbWritten) (blocks until done) .*-> S_OK" \
            "wrote 10 bytes" \
            'read 10 bytes: " And back."' \
            "live server objects: 0"; do
    check "simplestream prints: $want" bash -c 'printf "%s\n" "$1" | grep -q -- "$2"' _ "$out" "$want"
done
out=$(run "$BUILD/samples/simplestream/client_cxx" 2>&1); rc=$?
check "the C++ simplestream client reads the text" bash -c '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "read 44 bytes: \"The quick brown fox jumps over the lazy dog.\""' _ "$rc" "$out"
out=$(run "$BUILD/samples/serverasync" 2>&1); rc=$?
check "serverasync: the server's own call object serves the client's call (RULES.md E)" bash -c \
    '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "Finish_Read .*-> S_OK: \"Served asynchronously by the server.s own call object.\"" && printf "%s" "$2" | grep -q "ran 1 call" && printf "%s" "$2" | grep -q "call objects: 0"' _ "$rc" "$out"
out=$(run "$BUILD/samples/cancel" 2>&1); rc=$?
check "cancel: Cancel(0) -> S_OK, Finish_ -> RPC_E_CALL_CANCELED, the server stops (RULES.md D)" bash -c \
    '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "Cancel(0) .*-> S_OK" && printf "%s" "$2" | grep -q "Finish_Read .*-> RPC_E_CALL_CANCELED, pcbRead untouched (99)" && printf "%s" "$2" | grep -q "a new Begin_ before Finish_ .*-> RPC_E_CALL_PENDING" && printf "%s" "$2" | grep -q "and stopped, well within a second"' _ "$rc" "$out"
out=$(run "$BUILD/samples/fanout" 2>&1); rc=$?
check "fanout: 1,000 calls collected through WaitMultiple and poll(), all results correct" bash -c \
    '[ "$1" -eq 0 ] && printf "%s" "$2" | grep -q "63 collected through ISynchronizeContainer::WaitMultiple, 937 through poll()" && printf "%s" "$2" | grep -q "1000 of 1000 results correct, 0 wrong" && printf "%s" "$2" | grep -q "throughput: [0-9]* calls/s"' _ "$rc" "$out"
printf '%s\n' "$out" | grep throughput
if command -v valgrind >/dev/null; then
    check "cancel is clean under valgrind" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=9 "$BUILD/samples/cancel" >/dev/null 2>&1
    check "serverasync is clean under valgrind" valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=9 "$BUILD/samples/serverasync" >/dev/null 2>&1
    check "simplestream is clean under valgrind (no error, no leak)" \
        valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
        "$BUILD/samples/simplestream/client" >/dev/null 2>&1
fi

section "glue: FILE_async.c"
mkdir -p "$TMP/glue"
for n in async_basic async_inherit async_void_props async_call_as async_mixed async_types; do
    if run "$AMIDL" -w --outdir "$TMP/glue" "tests/golden/$n.idl" 2>"$TMP/glue/$n.err"; then
        check "glue of $n.idl compiles (gcc -Wall -Wextra -Werror)" gcc -std=c11 -Wall -Wextra -Werror -c \
            -o "$TMP/glue/$n.o" -Iruntime/include -I$BUILD/runtime/include -I"$TMP/glue" "$TMP/glue/${n}_async.c"
    else
        bad "glue of $n.idl: amidl failed"; head -3 "$TMP/glue/$n.err"
    fi
done
# the corpus files with [async_uuid] (objidl's IAdviseSink passes FORMATETC with a
# conformant DVTARGETDEVICE and STGMEDIUM, a union of handles, strings and interfaces)
for n in objidlbase objidl activdbg napsystemhealthagent; do
    rm -rf "$TMP/glue-corpus"; mkdir -p "$TMP/glue-corpus"
    check "glue of the corpus file $n.idl is generated" bash -c "'$AMIDL' -w -DBOOL=WINBOOL -I '$CORPUS/mingw-w64' \
        -I '$CORPUS/mingw-w64-include' --outdir '$TMP/glue-corpus' '$CORPUS/mingw-w64/$n.idl' && test -s '$TMP/glue-corpus/${n}_async.c'"
done
# what the glue cannot pass: a located error naming interface, method and
# parameter (and member), exit 1, and no output file at all
for idl in tests/glue-errors/*.idl; do
    n=$(basename "$idl" .idl)
    rm -rf "$TMP/glue-err"; mkdir -p "$TMP/glue-err"
    got=$(run "$AMIDL" -I runtime/idl --outdir "$TMP/glue-err" "$idl" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne 1 ] || [ "$(printf '%s\n' "$got" | diags)" != "$(cat "tests/glue-errors/$n.expected")" ]; then
        bad "glue error $idl (exit $rc)"
        diff <(cat "tests/glue-errors/$n.expected") <(printf '%s\n' "$got" | diags) | head -5
    elif [ -n "$(ls -A "$TMP/glue-err")" ]; then
        bad "glue error $idl left files: $(ls "$TMP/glue-err")"
    else
        ok
    fi
done

# ---------------------------------------------------------------- command line
section "command line"
check "--help exits 0" run "$AMIDL" --help >/dev/null
check "--version" bash -c "'$AMIDL' --version | grep -q '^amidl '"
"$AMIDL" >/dev/null 2>&1; check "no input is a usage error (2)" test $? -eq 2
"$AMIDL" --bogus x.idl >/dev/null 2>&1; check "unknown option is a usage error (2)" test $? -eq 2
"$AMIDL" --check does-not-exist.idl >/dev/null 2>&1; check "missing input exits 1" test $? -eq 1
printf 'typedef int A;\n#define X 5\nconst int B = X;\n' > "$TMP/e.idl"
check "-E writes line markers and expands macros" bash -c "'$AMIDL' -E '$TMP/e.idl' | grep -q '^# 1 \"$TMP/e.idl\"' && '$AMIDL' -E '$TMP/e.idl' | grep -q 'const int B = 5;'"
check "-D defines a macro" bash -c "printf '#if FOO != 3\n#error bad\n#endif\n' > '$TMP/d.idl' && '$AMIDL' --check -DFOO=3 '$TMP/d.idl'"
check "-U undefines a macro" bash -c "printf '#ifdef _WIN64\n#error still defined\n#endif\n' > '$TMP/u.idl' && '$AMIDL' --check -U_WIN64 '$TMP/u.idl'"
check "predefined macros" bash -c "printf '#if __midl != 501 || !defined(__WIDL__) || !defined(_WIN32) || !defined(_WIN64)\n#error predefined\n#endif\n' > '$TMP/p.idl' && '$AMIDL' --check '$TMP/p.idl'"
mkdir -p "$TMP/inc1" "$TMP/inc2"
echo 'typedef int FROM_ONE;' > "$TMP/inc1/x.h"; echo 'typedef int FROM_TWO;' > "$TMP/inc2/x.h"
printf '#include <x.h>\ntypedef FROM_ONE Y;\n' > "$TMP/i.idl"
check "-I directories are searched in order" run "$AMIDL" --check -I "$TMP/inc1" -I "$TMP/inc2" "$TMP/i.idl"
printf 'import "unknwn.idl";\n[object, uuid(11111111-2222-3333-4444-555555555555)] interface IW : IUnknown { void M(); }\n[object, uuid(11111111-2222-3333-4444-555555555556), async_uuid(11111111-2222-3333-4444-555555555557)] interface IA : IUnknown { void N(); }\n' > "$TMP/w.idl"
"$AMIDL" --check -Werror -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" "$TMP/w.idl" >/dev/null 2>&1
check "-Werror turns warnings into errors" test $? -eq 1
check "-w silences warnings" bash -c "! '$AMIDL' --check -w -I '$CORPUS/mingw-w64' -I '$CORPUS/mingw-w64-include' '$TMP/w.idl' 2>&1 | grep -q warning"
check "msvc diagnostics format" bash -c "'$AMIDL' --check -fdiagnostics-format=msvc tests/errors/sema_void_field.idl 2>&1 | grep -Eq '^tests/errors/sema_void_field.idl\(1,25\): error AMIDL[0-9]{4}: '"
check "--color=always colours diagnostics" bash -c "'$AMIDL' --check --color=always tests/errors/sema_void_field.idl 2>&1 | grep -q $'\033\\['"
check "no colour when not a terminal" bash -c "! '$AMIDL' --check tests/errors/sema_void_field.idl 2>&1 | grep -q $'\033\\['"

mkdir -p "$TMP/out"
printf 'typedef int A;\n' > "$TMP/out/o.idl"
(cd "$TMP/out" && "$OLDPWD/$AMIDL" o.idl >/dev/null 2>&1); rc=$?
check "amidl FILE.idl writes FILE.h and FILE_i.c" bash -c "[ $rc -eq 0 ] && [ -s '$TMP/out/o.h' ] && [ -s '$TMP/out/o_i.c' ] && ! ls '$TMP/out'/*.tmp.* 2>/dev/null | grep -q ."
cat > "$TMP/winrt.idl" <<'IDLEOF'
import "unknwn.idl";
namespace Windows.Foundation.Metadata {
    [attributeusage(target_runtimeclass), allowmultiple]
    attribute GuidAttribute { GUID value; }
}
typedef struct S { int attribute; } S;
IDLEOF
check "WinRT 'attribute' declarations parse; 'attribute' stays a field name" run "$AMIDL" --check "$TMP/winrt.idl"
check "WinRT output stops with a located 'not supported yet' error" bash -c \
    "'$AMIDL' --outdir '$TMP' '$TMP/winrt.idl' 2>&1 | grep -q 'winrt.idl:2:1: error: WinRT output is not supported yet (.namespace.)' && [ ! -e '$TMP/winrt.h' ]"
if command -v clang >/dev/null; then
    check "the compiler also builds with clang (-Wall -Wextra -Werror)" \
        make -s BUILD="$TMP/clang-build" CC=clang "$TMP/clang-build/libamidlfe.a" >/dev/null
fi
mkdir -p "$TMP/out2"
"$AMIDL" --outdir "$TMP/out2" --header hh.h --iid ii.c "$TMP/out/o.idl" >/dev/null 2>&1
check "--outdir, --header and --iid name the outputs" test -s "$TMP/out2/hh.h" -a -s "$TMP/out2/ii.c"
"$AMIDL" --outdir "$TMP/out2" --no-iid --header nh.h "$TMP/out/o.idl" >/dev/null 2>&1
check "--no-iid writes no IID file" bash -c "[ -s '$TMP/out2/nh.h' ] && [ ! -e '$TMP/out2/o_i.c' ]"
cp "$TMP/out/o.h" "$TMP/out/o.h.before"
printf 'typedef UNKNOWN_T A;\n' > "$TMP/out/bad.idl"
"$AMIDL" --outdir "$TMP/out" --header o.h "$TMP/out/bad.idl" >/dev/null 2>&1; rc=$?
check "an error leaves an existing output untouched" bash -c "[ $rc -eq 1 ] && cmp -s '$TMP/out/o.h' '$TMP/out/o.h.before' && ! ls '$TMP/out'/*.tmp.* 2>/dev/null | grep -q ."
(cd "$TMP/out" && "$OLDPWD/$AMIDL" --header o.idl o.idl >/dev/null 2>&1); rc=$?
check "amidl refuses to write over its input" bash -c "[ $rc -eq 1 ] && grep -q 'typedef int A' '$TMP/out/o.idl'"
"$AMIDL" --outdir "$TMP/nonexistent" "$TMP/out/o.idl" >/dev/null 2>&1; rc=$?
check "a missing output directory is an error" test $rc -eq 1

# ---------------------------------------------------------------- golden files
section "golden: tests/golden/NAME.idl -> NAME.h, NAME_i.c (exact)"
mkdir -p "$TMP/golden"
for idl in tests/golden/*.idl; do
    n=$(basename "$idl" .idl)
    if ! run "$AMIDL" -w --no-glue --outdir "$TMP/golden" "$idl" 2>"$TMP/golden/$n.err"; then
        bad "golden $n: amidl failed"; head -5 "$TMP/golden/$n.err"; continue
    fi
    for out in "$n.h" "${n}_i.c"; do
        if [ ! -f "tests/golden/$out" ]; then
            bad "golden $out: no expectation (make golden-update)"
        elif cmp -s "tests/golden/$out" "$TMP/golden/$out"; then
            ok
        else
            bad "golden $out differs"; diff -u "tests/golden/$out" "$TMP/golden/$out" | head -40
        fi
    done
done

section "linux: generated headers compile with gcc -std=c99 and g++ -std=c++11 against runtime/include"
mkdir -p "$TMP/base"
for idl in runtime/idl/*.idl; do
    run "$AMIDL" -w --no-glue --outdir "$TMP/base" "$idl" || bad "base IDL $idl"
done
for h in "$TMP"/base/*.h "$TMP"/golden/*.h; do
    d=$(dirname "$h"); n=$(basename "$h")
    printf '#include "%s"\n' "$n" > "$TMP/inc.c"
    check "gcc -std=c99 $n" gcc -std=c99 -Wall -Wextra -Werror -fsyntax-only -I runtime/include -I "$TMP/base" -I "$d" "$TMP/inc.c"
    check "g++ -std=c++11 $n" g++ -std=c++11 -Wall -Werror -fsyntax-only -x c++ -I runtime/include -I "$TMP/base" -I "$d" "$TMP/inc.c"
done
for c in "$TMP"/base/*_i.c "$TMP"/golden/*_i.c; do
    check "gcc -c $(basename "$c")" gcc -std=c99 -Wall -Wextra -Werror -c -o "$TMP/iid.o" -I runtime/include -I "$TMP/base" "$c"
    check "g++ -c $(basename "$c")" g++ -std=c++11 -Wall -Werror -c -x c++ -o "$TMP/iid.o" -I runtime/include -I "$TMP/base" "$c"
done
cat > "$TMP/iidtest.c" <<'CEOF'
#define COBJMACROS
#define CINTERFACE
#include "async_basic.h"
#include <stdio.h>
int main(void)
{
    /* IID_AsyncISimpleStream is the async_uuid; the twin's vtable has the
     * IUnknown slots then Begin_Read, Finish_Read, Begin_Write, Finish_Write */
    const GUID *g = &IID_AsyncISimpleStream;
    int ok = g->Data1 == 0xa1b2c3d4 && g->Data2 == 0x0010 && g->Data4[7] == 0x11 &&
             IID_ISimpleStream.Data4[7] == 0x10 &&
             offsetof(AsyncISimpleStreamVtbl, Begin_Read) == 3 * sizeof(void *) &&
             offsetof(AsyncISimpleStreamVtbl, Finish_Write) == 6 * sizeof(void *);
    printf("%s\n", ok ? "ok" : "bad");
    return !ok;
}
CEOF
check "IIDs link and AsyncISimpleStream's vtable has its slots (C)" bash -c "gcc -std=c99 -Wall -Werror -I runtime/include -I '$TMP/base' -I '$TMP/golden' -o '$TMP/iidtest' '$TMP/iidtest.c' '$TMP/golden/async_basic_i.c' && '$TMP/iidtest' | grep -qx ok"
check "the same from C++" bash -c "g++ -std=c++11 -Wall -Werror -x c++ -I runtime/include -I '$TMP/base' -I '$TMP/golden' -o '$TMP/iidtest2' '$TMP/iidtest.c' -x c++ '$TMP/golden/async_basic_i.c' && '$TMP/iidtest2' | grep -qx ok"

section "determinism: same input, other directory, other time, same bytes"
mkdir -p "$TMP/det1" "$TMP/det2/sub"
run "$AMIDL" -w --no-glue --outdir "$TMP/det1" "$PWD/tests/golden/async_types.idl"
sleep 1
(cd "$TMP/det2/sub" && run "$OLDPWD/$AMIDL" -w --no-glue --outdir .. "$OLDPWD/tests/golden/async_types.idl")
check "header identical" cmp -s "$TMP/det1/async_types.h" "$TMP/det2/async_types.h"
check "iid file identical" cmp -s "$TMP/det1/async_types_i.c" "$TMP/det2/async_types_i.c"
check "no absolute path in the outputs" bash -c "! grep -q '$TMP\|$PWD' '$TMP/det1/async_types.h' '$TMP/det1/async_types_i.c'"

section "allocation failure: the Nth allocation of amidl fails, for every N of a run"
mkdir -p "$TMP/oom"
cp tests/golden/async_basic.idl "$TMP/oom/"
oom_bad=0; oom_runs=0; oom_ok=0
for n in $(seq 1 600); do
    rm -f "$TMP"/oom/*.h "$TMP"/oom/*.c "$TMP"/oom/*.tmp.*
    AMIDL_FAIL_ALLOC=$n "$AMIDL" -w --outdir "$TMP/oom" "$TMP/oom/async_basic.idl" > "$TMP/oom.out" 2>&1
    rc=$?
    oom_runs=$((oom_runs + 1))
    files=$(ls "$TMP/oom" | grep -v '\.idl$' | wc -l)
    if [ $rc -eq 0 ]; then
        [ "$files" -eq 3 ] || { oom_bad=$((oom_bad + 1)); echo "N=$n: success but $files outputs"; }
        oom_ok=1
        break           # N is past the run's last allocation
    elif [ $rc -ne 1 ] || ! grep -q "out of memory" "$TMP/oom.out" || [ "$files" -ne 0 ]; then
        oom_bad=$((oom_bad + 1)); echo "N=$n: exit $rc, $files files: $(head -c 200 "$TMP/oom.out")"
    fi
done
check "every failing allocation ($oom_runs runs) gives 'out of memory', exit 1 and no output file" \
    test "$oom_bad" -eq 0 -a "$oom_ok" -eq 1
# a signal in the middle of a run leaves no partial file
S="$TMP/sig"; mkdir -p "$S"
python3 -c "
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(150000):
        f.write('typedef struct S%d { int a; long b; } S%d;\\n' % (i, i))
" "$S/big.idl"
for sig in INT TERM; do
    rm -f "$S"/big.h "$S"/big_i.c "$S"/*.tmp.*
    "$AMIDL" --outdir "$S" "$S/big.idl" >/dev/null 2>&1 &
    pid=$!
    sleep 0.4
    kill -s $sig $pid 2>/dev/null
    wait $pid 2>/dev/null
    check "SIG$sig during a run leaves no output and no temporary file" bash -c "! ls '$S'/big.h '$S'/big_i.c '$S'/*.tmp.* 2>/dev/null | grep -q ."
done
# a full disk is a clear error, and nothing half-written stays behind
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TMP/full" && mount -t tmpfs -o size=4k tmpfs "$TMP/full" 2>/dev/null; then
    out=$("$AMIDL" -w --no-glue --outdir "$TMP/full" tests/golden/async_types.idl 2>&1); rc=$?
    check "a full disk: exit 1, 'cannot write', no partial file" bash -c \
        '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "cannot write" && ! ls "$3"/*.tmp.* "$3"/async_types.h 2>/dev/null | grep -q .' _ "$rc" "$out" "$TMP/full"
    umount "$TMP/full"
fi
# an unwritable directory: mode 555 stops an ordinary user; root ignores
# modes, so as root it is a read-only mount instead
mkdir -p "$TMP/ro"; chmod 555 "$TMP/ro"
ro_ok=1
if [ "$(id -u)" -eq 0 ]; then
    mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null || ro_ok=0
fi
if [ "$ro_ok" -eq 1 ]; then
    out=$("$AMIDL" -w --outdir "$TMP/ro" tests/golden/async_basic.idl 2>&1); rc=$?
    check "an unwritable output directory: exit 1, 'cannot write', no file" bash -c \
        '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "cannot" && ! ls -A "$3" | grep -q .' _ "$rc" "$out" "$TMP/ro"
    [ "$(id -u)" -ne 0 ] || umount "$TMP/ro"
fi

# ---------------------------------------------------------------- build integration
section "build integration: depfiles with make and ninja, --verify, --write-if-changed, option spellings"
D="$TMP/dep"; mkdir -p "$D"
printf 'import "unknwn.idl";\nimport "b.idl";\n[object, uuid(11111111-2222-3333-4444-555555555501)] interface IA : IB { HRESULT A(); }\n' > "$D/a.idl"
printf 'import "unknwn.idl";\n[object, uuid(11111111-2222-3333-4444-555555555502)] interface IB : IUnknown { HRESULT B(); }\n' > "$D/b.idl"
printf 'typedef int UNRELATED;\n' > "$D/unrelated.idl"
ABS_AMIDL=$(cd "$(dirname "$AMIDL")" && pwd)/$(basename "$AMIDL")
printf 'all: a.h\n%%.h: %%.idl\n\t%s -MD -MP --no-glue $<\n-include a.d\n' "$ABS_AMIDL" > "$D/Makefile"
(cd "$D" && make -s >/dev/null 2>&1)
check "-MD writes a.d naming the outputs and every file read" bash -c "grep -q '^a.h a_i.c:' '$D/a.d' && grep -q 'b.idl' '$D/a.d' && grep -q 'unknwn.idl' '$D/a.d' && grep -q '^b.idl:' '$D/a.d'"
(cd "$D" && make -q >/dev/null 2>&1); check "make: up to date after the build" test $? -eq 0
sleep 1; touch "$D/unrelated.idl"
(cd "$D" && make -q >/dev/null 2>&1); check "make: touching an unrelated file does not rebuild" test $? -eq 0
touch "$D/b.idl"
(cd "$D" && make -q >/dev/null 2>&1); check "make: touching an imported .idl rebuilds" test $? -eq 1
if command -v ninja >/dev/null; then
    N="$TMP/ninja"; mkdir -p "$N"; cp "$D"/a.idl "$D"/b.idl "$D"/unrelated.idl "$N"/
    printf 'rule amidl\n  command = %s -MD -MF $out.d --no-glue --header $out --no-iid $in\n  depfile = $out.d\n  deps = gcc\nbuild a.h: amidl a.idl\n' "$ABS_AMIDL" > "$N/build.ninja"
    (cd "$N" && ninja >/dev/null 2>&1)
    check "ninja: builds with the depfile" test -s "$N/a.h"
    sleep 1; touch "$N/unrelated.idl"
    check "ninja: touching an unrelated file does not rebuild" bash -c "cd '$N' && ninja -n | grep -q 'no work to do'"
    touch "$N/b.idl"
    check "ninja: touching an imported .idl rebuilds" bash -c "cd '$N' && ! ninja -n | grep -q 'no work to do'"
fi
V="$TMP/verify"; mkdir -p "$V"; cp "$D/b.idl" "$V/"
"$AMIDL" -w --outdir "$V" "$V/b.idl" >/dev/null 2>&1
check "--verify: exit 0 when the files on disk are what amidl generates" "$AMIDL" --verify -w --outdir "$V" "$V/b.idl"
echo "/* edited by hand */" >> "$V/b.h"
out=$("$AMIDL" --verify -w --outdir "$V" "$V/b.idl" 2>&1); rc=$?
check "--verify: a unified diff and exit 1 when they differ" bash -c '[ "$1" -eq 1 ] && printf "%s" "$2" | grep -q "^-/\* edited by hand \*/"' _ "$rc" "$out"
"$AMIDL" -w --outdir "$V" "$V/b.idl" >/dev/null 2>&1
touch -d '2001-01-01' "$V/b.h"
"$AMIDL" -w --write-if-changed --outdir "$V" "$V/b.idl" >/dev/null 2>&1
check "--write-if-changed leaves an identical output untouched" bash -c "[ \$(stat -c %Y '$V/b.h') -lt 1000000000 ]"
W="$TMP/spell"; mkdir -p "$W"; cp "$D/b.idl" "$W/"
(cd "$W" && "$ABS_AMIDL" -w -h -H widl_hdr.h b.idl >/dev/null 2>&1)
check "widl: -h -H FILE writes only that header" bash -c "[ -s '$W/widl_hdr.h' ] && [ ! -e '$W/b_i.c' ]"
(cd "$W" && "$ABS_AMIDL" -w -u -U widl_iid.c b.idl >/dev/null 2>&1)
check "widl: -u -U FILE writes only that IID file" bash -c "[ -s '$W/widl_iid.c' ] && [ ! -e '$W/b.h' ]"
mkdir -p "$W/out"
(cd "$W" && "$ABS_AMIDL" -w /nologo /env win64 /out out /h midl.h /iid midl_i.c b.idl >/dev/null 2>&1)
check "MIDL: /nologo /env win64 /out DIR /h FILE /iid FILE" bash -c "[ -s '$W/out/midl.h' ] && [ -s '$W/out/midl_i.c' ]"
"$AMIDL" -p "$W/b.idl" >/dev/null 2>&1
check "an option that makes no sense here (-p) is a clear usage error" test $? -eq 2

section "install: make install into a temporary prefix; make, CMake (Ninja, Makefiles) and Meson examples against it"
while IFS= read -r line; do
    case "$line" in
        ok:*) ok ;;
        FAIL:*) bad "${line#FAIL: }" ;;
        *) echo "$line" ;;
    esac
done < <(bash tests/install.sh "$TMP/install" 2>&1)

# ---------------------------------------------------------------- bad input
section "runtime under ASan+UBSan (leak checking) and under TSan: tests/sanitize.sh, the stress and allocation-failure tests among them"
if timeout 1800 make -s --no-print-directory BUILD="$BUILD" SHARED="$SHARED" sanitize-build >"$TMP/san-build.log" 2>&1; then
    suite=
    while IFS= read -r line; do
        case "$line" in
            "== "*) suite=${line#== } ;;
            "FAIL: "*) bad "${line#FAIL: }" ;;
            *" passed, "*" failed") echo "   $suite: $line"; pass=$((pass + ${line%% passed*})) ;;
        esac
    done < <(BUILD="$BUILD" timeout 1800 bash tests/sanitize.sh 2>&1)
else
    bad "the sanitizer builds (make sanitize-build)"; tail -20 "$TMP/san-build.log"
fi

section "fuzz replay: every seed through the libFuzzer harness under ASan+UBSan (make fuzz-replay)"
check "fuzz replay of tests/errors, tests/golden, tests/fuzz, the base IDL and the samples" \
    timeout 900 make -s --no-print-directory BUILD="$BUILD" SHARED="$SHARED" fuzz-replay

section "bad input: tests/errors (expected diagnostics, exactly)"
for idl in tests/errors/*.idl; do
    exp=${idl%.idl}.expected
    got=$(run "$AMIDL" --check -I "$CORPUS/mingw-w64" -I "$CORPUS/mingw-w64-include" "$idl" 2>&1 >/dev/null)
    rc=$?
    want_rc=1
    [ -s "$exp" ] || want_rc=0
    if [ "$rc" -ne "$want_rc" ] || [ "$(printf '%s\n' "$got" | diags)" != "$(cat "$exp")" ]; then
        bad "$idl (exit $rc, want $want_rc)"
        diff <(cat "$exp") <(printf '%s\n' "$got" | diags) | head -10
    elif [ "$rc" -ge 128 ] || printf '%s' "$got" | grep -q 'AddressSanitizer\|Segmentation'; then
        bad "$idl crashed"
    else
        ok
    fi
done

# generated inputs: very long, very deep
python3 - "$TMP" <<'EOF'
import sys
d = sys.argv[1]
with open(d + "/long.idl", "w") as f:
    n = 0
    while f.tell() < 10 * 1024 * 1024:
        f.write("typedef struct S%d { int a; long b; } S%d;\n" % (n, n)); n += 1
    f.write("typedef MISSING_TYPE LAST;\n")
    open(d + "/long.line", "w").write(str(n + 1))
with open(d + "/deep_struct.idl", "w") as f:
    f.write("typedef " + "struct { " * 10000 + "int x; " + "} y; " * 10000 + "} Z;\n")
with open(d + "/deep_expr.idl", "w") as f:
    f.write("const int X = " + "(" * 10000 + "1" + ")" * 10000 + ";\n")
with open(d + "/deep_if.idl", "w") as f:
    f.write("#if " + "(" * 10000 + "1" + ")" * 10000 + "\n#endif\n")
with open(d + "/deep_include.idl", "w") as f:
    f.write('#include "deep_include.idl"\n')
EOF
line=$(cat "$TMP/long.line")
out=$(run "$AMIDL" --check "$TMP/long.idl" 2>&1); rc=$?
check "10 MB file: located error on its last line" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | grep -q 'long.idl:$line:9: error: unknown type name .MISSING_TYPE.'" _ "$out"
for deep in deep_struct deep_expr deep_if deep_include; do
    out=$(run "$AMIDL" --check "$TMP/$deep.idl" 2>&1); rc=$?
    check "$deep: nested 10,000 deep is a located error" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | grep -q '$deep.idl:[0-9]*:[0-9]*: error: '" _ "$out"
done

# ---------------------------------------------------------------- corpus
section "corpus: every file of $CORPUS/mingw-w64 (amidl --check)"
# the files the reference widl 11.12 rejects too (fragments, wincrypt.idl)
expected_bad=" axcore.idl axextend.idl dyngraph.idl mulres.idl xmldom.idl xmldso.idl wincrypt.idl "
if [ -d "$CORPUS/mingw-w64" ]; then
    ls "$CORPUS"/mingw-w64/*.idl | xargs -P 2 -I{} sh -c '
        f={}; b=$(basename "$f")
        timeout 60 "$0" --check -w -DBOOL=WINBOOL -I "$1/mingw-w64" -I "$1/mingw-w64-include" "$f" > "$2/corpus.$b.out" 2>&1
        echo $? > "$2/corpus.$b.rc"' "$AMIDL" "$CORPUS" "$TMP"
    for f in "$CORPUS"/mingw-w64/*.idl; do
        b=$(basename "$f")
        rc=$(cat "$TMP/corpus.$b.rc")
        if [[ "$expected_bad" == *" $b "* ]]; then
            if [ "$rc" -eq 1 ] && grep -Eq '^[^ ]+:[0-9]+:[0-9]+: error: ' "$TMP/corpus.$b.out"; then ok
            else bad "corpus $b: widl rejects it; amidl must fail with a located error (exit $rc)"; fi
        else
            if [ "$rc" -eq 0 ]; then ok
            else bad "corpus $b (exit $rc)"; head -3 "$TMP/corpus.$b.out"; fi
        fi
    done
else
    bad "corpus not found at $CORPUS"
fi

# ---------------------------------------------------------------- ABI against widl
if [ "${AMIDL_SKIP_ABI:-0}" != 1 ]; then
    section "abi: amidl vs widl 11.12 headers over the corpus (abi_compare.py, mingw-w64 C and C++)"
    if command -v x86_64-w64-mingw32-gcc >/dev/null && [ -x "$SHARED/tools/widl" ]; then
        SHARED=$SHARED AMIDL=$AMIDL bash tests/abi.sh "$TMP/abi" > "$TMP/abi.log" 2>&1
        while IFS= read -r line; do
            case "$line" in
                ok:*) ok ;;
                FAIL:*) bad "${line#FAIL: }" ;;
                abi:*) echo "$line" ;;
            esac
        done < "$TMP/abi.log"
    else
        bad "abi: x86_64-w64-mingw32-gcc or $SHARED/tools/widl missing"
    fi
fi

# ---------------------------------------------------------------- suites
# tests/suites/NAME.sh: one driver per kind (tests/suites/README.md).
for suite in tests/suites/*.sh; do
    [ -e "$suite" ] || continue
    name=$(basename "$suite" .sh)
    section "suite: $name"
    BUILD=$BUILD AMIDL=$AMIDL SHARED=$SHARED timeout 1800 bash "$suite" > "$TMP/suite.log" 2>&1
    status=$?
    sfail=0
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok ;;
            "FAIL "*) bad "$name: ${line#FAIL }"; sfail=$((sfail + 1)) ;;
            *) echo "$line" ;;
        esac
    done < "$TMP/suite.log"
    if [ "$status" -ne 0 ] && [ "$sfail" -eq 0 ]; then
        bad "$name: the suite exited with status $status and reported no failure"
    fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
