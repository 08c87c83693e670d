# tests/lib.sh - the setup every suite sources (as jq's tests/setup and
# git's t/test-lib.sh): the environment, a scratch directory, the time
# limits and the helpers that print the suite's result lines.
#
#   . tests/lib.sh
#   check "NAME" command args...      # ok NAME, or FAIL NAME: cause + output
#   ok "NAME" / fail "NAME" "cause" [output-file]
#   run_harness "LABEL" binary [args]  # a tests/runtime/task.h binary
#   limit SECONDS command args...      # timeout scaled by the multiplier
#
# A suite prints "ok NAME" / "FAIL NAME: cause" lines (the failing test's
# own output follows, indented by four spaces), "skip NAME: why" for what
# this machine cannot run; tests/run.sh counts them (tests/suites/README.md).
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SHARED=${SHARED:-../shared}
BUILD=${BUILD:-build}
AMIDL=${AMIDL:-bin/amidl}
CORPUS=$SHARED/corpus
export SHARED BUILD AMIDL
unset MAKEFLAGS MFLAGS MAKELEVEL    # a suite's own make runs are not the caller's

# One multiplier for every time limit (the shell's and task.h's alarm), as
# libuv's UV_TEST_TIMEOUT_MULTIPLIER: the valgrind and sanitizer suites
# raise its default, a slow machine sets it for everything.
AMIDL_TEST_TIMEOUT_MULTIPLIER=${AMIDL_TEST_TIMEOUT_MULTIPLIER:-1}
export AMIDL_TEST_TIMEOUT_MULTIPLIER

TMP=$(mktemp -d "${TMPDIR:-/tmp}/amidl-test.XXXXXX") || exit 1
# the rendezvous directory of the runtime's LOCAL_SERVER classes (docs/remoting.md):
# private to the suite, never the user's $XDG_RUNTIME_DIR/amidl or /tmp/amidl-$UID
export AMIDL_RUNDIR=$TMP/rundir
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

t_pass=0
t_fail=0

limit() {           # limit SECONDS command...: a hang is a failure
    local s=$1; shift
    timeout -k 10 $((s * AMIDL_TEST_TIMEOUT_MULTIPLIER)) "$@"
}

# What an exit status means: "exit status 1", "killed by SIGSEGV", "timed out".
status_text() {
    local rc=$1
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timed out (status $rc; AMIDL_TEST_TIMEOUT_MULTIPLIER scales the limits)"
    elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
        echo "killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    else
        echo "exit status $rc"
    fi
}

indent() { sed 's/^/    /'; }

ok() { t_pass=$((t_pass + 1)); echo "ok $1"; }

# fail NAME CAUSE [FILE]: the FILE (the test's own output) follows, indented:
# all of it up to 60 lines; else its first 20 lines, the lines of the middle
# that name a failure (FAIL, error, still live), and its last 30 lines, so
# that a long harness output never hides which test failed and why.
fail() {
    t_fail=$((t_fail + 1))
    echo "FAIL $1: $2"
    if [ $# -ge 3 ] && [ -s "$3" ]; then
        local n; n=$(wc -l < "$3")
        if [ "$n" -le 60 ]; then
            indent < "$3"
        else
            head -20 "$3" | indent
            echo "    ... ($n lines; the failure lines among the next $((n - 50)), then the last 30)"
            sed -n "21,$((n - 30))p" "$3" | grep -E 'FAIL|error|Error|still live|Assertion|timed out' | head -20 | indent
            echo "    ..."
            tail -30 "$3" | indent
        fi
    fi
}

skip() { echo "skip $1: $2"; }

# check NAME command...: ok when the command exits 0 (with a time limit of
# 120 s unless CHECK_LIMIT says otherwise), else FAIL with its status and output.
check() {
    local name=$1; shift
    local rc=0
    limit "${CHECK_LIMIT:-120}" "$@" > "$TMP/check.out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then ok "$name"; else fail "$name" "$(status_text "$rc")" "$TMP/check.out"; fi
}

# run_harness LABEL BINARY [ARGS]: a test binary of tests/runtime (task.h):
# its ok/FAIL lines named "LABEL: test", its indented output kept. Missing,
# crashed, no "N passed, N failed" line or a non-zero exit without a FAIL
# line: a failure of its own.
run_harness() {
    local label=$1 bin=$2; shift 2
    if [ ! -x "$bin" ]; then fail "$label" "$bin is missing (build it with make)"; return; fi
    local rc=0 out=$TMP/harness.out
    limit "${HARNESS_LIMIT:-600}" "$bin" "$@" > "$out" 2>&1 || rc=$?
    local nfail=0 summary=0 line
    while IFS= read -r line; do
        case "$line" in
            "ok "*) ok "$label: ${line#ok }" ;;
            "FAIL "*) t_fail=$((t_fail + 1)); nfail=$((nfail + 1)); echo "FAIL $label: ${line#FAIL }" ;;
            [0-9]*" passed, "[0-9]*" failed") summary=1 ;;
            *) echo "$line" ;;
        esac
    done < "$out"
    if [ "$summary" -eq 0 ]; then
        fail "$label" "no 'N passed, N failed' line ($(status_text "$rc"))" "$out"
    elif [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
        fail "$label" "$(status_text "$rc") without a FAIL line" "$out"
    fi
}

# The diagnostic lines of amidl's stderr (not the source excerpt).
diags() { grep -E '^[^ ].*: (error|warning|fatal error): |^amidl: ' || true; }

# The suite's exit status: non-zero when one of its checks failed.
suite_end() { [ "$t_fail" -eq 0 ]; }
