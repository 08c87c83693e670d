#!/usr/bin/env bash
# tier: check
# Output that does not depend on where or when amidl runs; allocation
# failure at every allocation of a run; a signal, a full disk, an
# unwritable directory: never a half-written output file.
. tests/lib.sh

mkdir -p "$TMP/det1" "$TMP/det2/sub"
limit 60 "$AMIDL" -w --no-glue --outdir "$TMP/det1" "$PWD/tests/golden/async_types.idl"
sleep 1
(cd "$TMP/det2/sub" && limit 60 "$OLDPWD/$AMIDL" -w --no-glue --outdir .. "$OLDPWD/tests/golden/async_types.idl")
check "same input, other directory, other time: the same header" cmp "$TMP/det1/async_types.h" "$TMP/det2/async_types.h"
check "same input, other directory, other time: the same IID file" cmp "$TMP/det1/async_types_i.c" "$TMP/det2/async_types_i.c"
check "no absolute path in the outputs" bash -c "! grep -n '$TMP\|$PWD' '$TMP/det1/async_types.h' '$TMP/det1/async_types_i.c'"

# AMIDL_FAIL_ALLOC=N: the Nth allocation fails, for every N of a run
mkdir -p "$TMP/oom"
cp tests/golden/async_basic.idl "$TMP/oom/"
: > "$TMP/oom.bad"; oom_runs=0; oom_done=0
for n in $(seq 1 2000); do
    rm -f "$TMP"/oom/*.h "$TMP"/oom/*.c "$TMP"/oom/*.tmp.*
    rc=0
    AMIDL_FAIL_ALLOC=$n limit 30 "$AMIDL" -w --outdir "$TMP/oom" "$TMP/oom/async_basic.idl" > "$TMP/oom.out" 2>&1 || rc=$?
    oom_runs=$((oom_runs + 1))
    files=$(ls "$TMP/oom" | grep -vc '\.idl$')
    if [ "$rc" -eq 0 ]; then
        [ "$files" -eq 3 ] || echo "N=$n: success but $files outputs" >> "$TMP/oom.bad"
        oom_done=1
        break           # N is past the run's last allocation
    elif [ "$rc" -ne 1 ] || ! grep -q "out of memory" "$TMP/oom.out" || [ "$files" -ne 0 ]; then
        echo "N=$n: $(status_text "$rc"), $files files: $(head -c 200 "$TMP/oom.out")" >> "$TMP/oom.bad"
    fi
done
if [ "$oom_done" -eq 0 ]; then
    fail "allocation failure" "the run still failed with its allocation $oom_runs failing" "$TMP/oom.bad"
elif [ -s "$TMP/oom.bad" ]; then
    fail "allocation failure" "not 'out of memory', exit 1 and no output file for every N" "$TMP/oom.bad"
else
    ok "every failing allocation ($oom_runs runs) gives 'out of memory', exit 1 and no output file"
fi

# a signal in the middle of a run leaves no partial file
S=$TMP/sig; mkdir -p "$S"
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
    # the signal once a temporary output file exists (the header is being
    # written: an output past 1 MiB goes into its temporary file as it is
    # generated), polled for at most 20 s
    for _ in $(seq 2000); do
        ls "$S"/*.tmp.* >/dev/null 2>&1 && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.01
    done
    kill -s $sig $pid 2>/dev/null
    wait $pid 2>/dev/null
    rc=$?
    if [ $rc -eq 0 ]; then
        fail "SIG$sig during a run" "amidl ended before the signal (no temporary file seen; the test's input is too small for this machine)"
        continue
    fi
    left=$(ls "$S"/big.h "$S"/big_i.c "$S"/*.tmp.* 2>/dev/null | tr '\n' ' ')
    if [ -z "$left" ]; then ok "SIG$sig during a run leaves no output and no temporary file"
    else fail "SIG$sig during a run" "files left: $left"; fi
done

# a full disk is a clear error, and nothing half-written stays behind
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TMP/full" && mount -t tmpfs -o size=4k tmpfs "$TMP/full" 2>/dev/null; then
    rc=0
    limit 60 "$AMIDL" -w --no-glue --outdir "$TMP/full" tests/golden/async_types.idl > "$TMP/full.out" 2>&1 || rc=$?
    left=$(ls "$TMP/full"/*.tmp.* "$TMP/full"/async_types.h 2>/dev/null | tr '\n' ' ')
    if [ "$rc" -ne 1 ] || ! grep -q "cannot write" "$TMP/full.out" || [ -n "$left" ]; then
        fail "a full disk" "$(status_text "$rc"), files left: ${left:-none}" "$TMP/full.out"
    else
        ok "a full disk: exit 1, 'cannot write', no partial file"
    fi
    umount "$TMP/full"
else
    skip "a full disk" "needs root to mount a small tmpfs"
fi
# an unwritable directory: mode 555 stops an ordinary user; root ignores
# modes, so as root it is a read-only mount instead
mkdir -p "$TMP/ro"; chmod 555 "$TMP/ro"
ro_ok=1
if [ "$(id -u)" -eq 0 ]; then
    mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null || ro_ok=0
fi
if [ "$ro_ok" -eq 1 ]; then
    rc=0
    limit 60 "$AMIDL" -w --outdir "$TMP/ro" tests/golden/async_basic.idl > "$TMP/ro.out" 2>&1 || rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q "cannot" "$TMP/ro.out" || ls -A "$TMP/ro" | grep -q .; then
        fail "an unwritable output directory" "$(status_text "$rc"), files: $(ls -A "$TMP/ro" | tr '\n' ' ')" "$TMP/ro.out"
    else
        ok "an unwritable output directory: exit 1, 'cannot write', no file"
    fi
    [ "$(id -u)" -ne 0 ] || umount "$TMP/ro"
else
    skip "an unwritable output directory" "cannot mount a read-only tmpfs as root"
fi
suite_end
