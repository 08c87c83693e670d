#!/usr/bin/env bash
# tests/run.sh - the test runner. The tests are the suites tests/suites/NAME.sh
# (tests/suites/README.md); make builds what they need first (make check,
# make test, make test-NAME: see docs/testing.md).
#
#   tests/run.sh --run NAME        run one suite: its output goes to
#                                  $BUILD/tests/logs/NAME.log, one line here
#   tests/run.sh --summary NAME... the failures of those suites with their
#                                  output, the list of failures, and last
#                                  "N passed, N failed" (exit 1 on a failure)
#   tests/run.sh --list TIER       the suites of a tier (check, slow or all)
#   tests/run.sh [NAME...]         run the suites (all of them by default)
#                                  one after the other, then the summary
#
# A suite that exits non-zero without a FAIL line, prints no result at
# all, or has no log, is a failure of its own: never a silent zero.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
AMIDL=${AMIDL:-bin/amidl}
SHARED=${SHARED:-../shared}
export BUILD AMIDL SHARED
# The multiplier is passed on only when the caller set it: unset, each suite
# takes its own default (1, or 5 and 10 under the sanitizers and valgrind).
MULT=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-1}
[ -z "${AMIDL_TEST_TIMEOUT_MULTIPLIER:-}" ] || export AMIDL_TEST_TIMEOUT_MULTIPLIER
LOGS=$BUILD/tests/logs

# The tier of a suite: its header line "# tier: check" or "# tier: slow"
# (check when it has none).
tier_of() {
    local t
    t=$(sed -n 's/^# tier: *\([a-z]*\).*/\1/p' "tests/suites/$1.sh" | head -1)
    echo "${t:-check}"
}

list() {
    local f n
    for f in tests/suites/*.sh; do
        [ -e "$f" ] || continue
        n=$(basename "$f" .sh)
        case "$1" in all) echo "$n" ;; *) [ "$(tier_of "$n")" = "$1" ] && echo "$n" ;; esac
    done
}

# run_one NAME: the suite with its time limit ("# timeout: SECONDS" in its
# header, default 1800, times the multiplier).
run_one() {
    local name=$1 suite=tests/suites/$1.sh
    mkdir -p "$LOGS"
    rm -f "$LOGS/$name.log" "$LOGS/$name.rc" "$LOGS/$name.time"
    if [ ! -f "$suite" ]; then
        echo "FAIL $name: no suite $suite" > "$LOGS/$name.log"; echo 1 > "$LOGS/$name.rc"
        echo "suite $name: missing"; return
    fi
    local secs start rc=0
    secs=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$suite" | head -1)
    secs=$(( ${secs:-1800} * MULT ))
    start=$(date +%s)
    timeout -k 30 "$secs" bash "$suite" > "$LOGS/$name.log" 2>&1 < /dev/null || rc=$?
    echo "$rc" > "$LOGS/$name.rc"
    echo $(( $(date +%s) - start )) > "$LOGS/$name.time"
    local p f
    p=$(grep -c '^ok ' "$LOGS/$name.log")
    f=$(grep -c '^FAIL ' "$LOGS/$name.log")
    echo "suite $name: $p ok, $f failed, $(cat "$LOGS/$name.time") s (exit $rc; log $LOGS/$name.log)"
}

summary() {
    local pass=0 fail=0 name log rc p f t line
    local -a failures=() table=()
    for name in "$@"; do
        log=$LOGS/$name.log
        if [ ! -f "$log" ] || [ ! -f "$LOGS/$name.rc" ]; then
            failures+=("$name: the suite did not run (no $log)"); fail=$((fail + 1)); continue
        fi
        rc=$(cat "$LOGS/$name.rc")
        p=$(grep -c '^ok ' "$log")
        f=$(grep -c '^FAIL ' "$log")
        t=$(cat "$LOGS/$name.time" 2>/dev/null || echo "?")
        table+=("$(printf '  %-18s %5d ok %4d failed %5s s' "$name" "$p" "$f" "$t")")
        pass=$((pass + p)); fail=$((fail + f))
        if [ "$f" -gt 0 ]; then
            echo "== $name: failures ($log)"
            # each FAIL line with the indented output that follows it
            awk '/^FAIL /{on=1; print; next} on && /^    /{print; next} {on=0}' "$log"
            while IFS= read -r line; do failures+=("$name: ${line#FAIL }"); done < <(grep '^FAIL ' "$log")
        fi
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            case "$rc" in
                124|137) why="timed out (the suite's limit; AMIDL_TEST_TIMEOUT_MULTIPLIER scales it)" ;;
                *) if [ "$rc" -gt 128 ]; then why="killed by SIG$(kill -l $((rc - 128)) 2>/dev/null)"; else why="exit status $rc"; fi ;;
            esac
            failures+=("$name: the suite ended with $why and no FAIL line"); fail=$((fail + 1))
            echo "== $name: ended with $why; its last lines:"; tail -20 "$log" | sed 's/^/    /'
        elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && ! grep -q '^skip ' "$log"; then
            failures+=("$name: the suite printed no result (no ok, FAIL or skip line)"); fail=$((fail + 1))
        fi
    done
    # a process a test started and left running (suites stop theirs by pid)
    # is a failure: any live program of this build tree, after a bounded
    # grace of 5 s for servers that end with their last object
    local root left="" try exe d
    root=$(pwd -P)
    for try in 1 2 3 4 5 6 7 8 9 10; do
        left=""
        for d in /proc/[0-9]*; do
            exe=$(readlink "$d/exe" 2>/dev/null) || continue
            case "$exe" in "$root/$BUILD"/*|"$BUILD"/*) left="$left ${d#/proc/} (${exe#"$root"/})" ;; esac
        done
        [ -n "$left" ] || break
        sleep 0.5
    done
    if [ -n "$left" ]; then failures+=("processes left running after the suites:$left"); fail=$((fail + 1)); fi
    echo "== suites"
    [ ${#table[@]} -eq 0 ] || printf '%s\n' "${table[@]}"
    if grep -h '^skip ' $(for n in "$@"; do echo "$LOGS/$n.log"; done) 2>/dev/null | sed 's/^/  /' | grep .; then :; fi
    if [ "$fail" -gt 0 ]; then
        echo "failures:"
        printf '  %s\n' "${failures[@]}"
    fi
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

case "${1:-}" in
    --run) shift; for n in "$@"; do run_one "$n"; done ;;
    --summary) shift; summary "$@" ;;
    --list) list "${2:-all}" ;;
    -*) sed -n '2,16p' "$0"; exit 2 ;;
    *)
        if [ $# -eq 0 ]; then set -- $(list all); fi
        for n in "$@"; do run_one "$n"; done
        summary "$@" ;;
esac
