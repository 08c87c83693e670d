#!/usr/bin/env bash
# tier: check
# timeout: 600
# Out-of-process servers (RULES.md J): a server executable and client
# processes talking through UNIX sockets in a private rendezvous directory
# per case; every case is named after its rule and bounded by a time limit.
. tests/lib.sh

# OOP_BUILD=build/asan (or tsan) runs the cases with sanitizer builds of the two programs
SRV_BIN=${OOP_BUILD:-$BUILD}/tests/oop-server
CLI_BIN=${OOP_BUILD:-$BUILD}/tests/oop-client
CLSID=5c1d7e40-2a61-4b0e-9a3f-0d6e8b7c4a30
WAIT_STEPS=$((400 * AMIDL_TEST_TIMEOUT_MULTIPLIER))     # 20 s of 50 ms steps: only a hang limit
SRV=
DIR=

if [ ! -x "$SRV_BIN" ] || [ ! -x "$CLI_BIN" ]; then
    fail "oop" "$SRV_BIN or $CLI_BIN is missing (build them with make)"
    suite_end
    exit
fi

# setup NAME: a private directory for the case, its rendezvous directory
# and an empty class path (no user or system class file interferes)
setup() {
    DIR=$TMP/$1
    SRV_PID=
    mkdir -p "$DIR/classes" "$DIR/home"
    export AMIDL_RUNDIR=$DIR/run AMIDL_CLASS_PATH=$DIR/classes HOME=$DIR/home
    unset XDG_DATA_HOME AMIDL_TEST_PROTO_VERSION AMRT_MAX_MESSAGE AMIDL_SERVER_START_TIMEOUT
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (bounded)
wait_for() {
    local i=0
    while [ $i -lt "$WAIT_STEPS" ]; do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# gone PID: until no process has that pid (bounded)
gone() {
    local i=0
    while [ $i -lt "$WAIT_STEPS" ]; do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# start_server [ARGS]: the server in the background, registered when this
# returns 0 (SRV: its time limit's pid, SRV_PID: its own)
start_server() {
    limit 300 "$SRV_BIN" --serve "$@" > "$DIR/server.out" 2> "$DIR/server.err" &
    SRV=$!
    wait_for "$DIR/server.out" '^ready' || return 1
    SRV_PID=$(sed -n 's/^ready //p' "$DIR/server.out")
}

# stop_server [HOW]: ask it to quit (HOW: quit through a client, term, or
# none when it ends by itself); its exit status in SRV_RC
stop_server() {
    case "${1:-quit}" in
        quit) limit 60 "$CLI_BIN" quit >> "$DIR/client.out" 2>&1 || kill -TERM "${SRV_PID:-$SRV}" 2>/dev/null ;;
        term) kill -TERM "${SRV_PID:-$SRV}" 2>/dev/null ;;
    esac
    SRV_RC=0
    wait "$SRV" || SRV_RC=$?
    SRV=
    SRV_PID=
}

# client CASE [ARGS]: one client process; 0 when the case held
client() {
    limit 120 "$CLI_BIN" "$@" >> "$DIR/client.out" 2>&1
}

# report NAME CLIENT_RC [EXPECTED_SERVER_RC]: ok when the client held and
# the server ended as expected (0: cleanly, every object released)
report() {
    local name=$1 crc=$2 want=${3:-0}
    cat "$DIR/server.err" >> "$DIR/client.out" 2>/dev/null
    if [ "$crc" -ne 0 ]; then
        fail "$name" "client: $(status_text "$crc")" "$DIR/client.out"
    elif [ "$SRV_RC" -ne "$want" ]; then
        fail "$name" "server: $(status_text "$SRV_RC") (expected $want)" "$DIR/client.out"
    else
        ok "$name"
    fi
}

# case_simple CASE NAME: a server, one client running CASE, the server told to quit
case_simple() {
    local c=$1 name=$2 rc=0
    setup "$c"
    if ! start_server; then
        SRV_RC=0; stop_server term; fail "$name" "the server did not register" "$DIR/server.err"; return
    fi
    client "$c" || rc=$?
    stop_server
    report "$name" "$rc"
}

case_simple J1 "J1 another process's CoCreateInstance(CLSCTX_LOCAL_SERVER) gets a proxy; J12 the server's CoGetCallContext(IID_IServerSecurity) names the client's uid and pid"
case_simple J4 "J4 synchronous calls: scalars, strings, arrays, [in,out], BSTR, HRESULTs; a [local] method fails with E_NOTIMPL"
case_simple J5 "J5 ICallFactory across the boundary: Begin_ returns at once, Wait, Finish_, cancel"
case_simple J6 "J6 32 calls in flight from 4 threads while a slow call runs; more slow calls than workers delay no other"
case_simple reader "J4 J9 four threads on one connection race to read their own replies: synchronous calls, callbacks into the client during a synchronous call, call objects, replies of 12 KB and 400 KB (read straight into their buffers; a large one handed to the event threads); the event threads read the connection again afterwards"
case_simple J7 "J7 cancel reaches the server's CoTestCancel"
# the client holds each call object's request between the call's start and
# its registration (AMIDL_TEST_BEGIN_DELAY_MS), where the Cancel comes
export AMIDL_TEST_BEGIN_DELAY_MS=300
case_simple J7-early "J7 a cancel between Begin_ and the request's registration still reaches the server's CoTestCancel"
unset AMIDL_TEST_BEGIN_DELAY_MS
case_simple J8 "J8 call objects released without Finish_ leak nothing in the server"
case_simple agg "J5 B14 aggregated call objects: Begin_ sends, the reply completes the call through the outer's ISynchronize, no pool worker; results, a slow call delays no other (J6), cancel (J7), E8 CompleteCall, released without Finish_ (J8), the outers go; a synchronous call from the outer's Signal fails at once"
case_simple J9 "J9 interface pointers both ways, callbacks, the original pointer back home"
case_simple J16 "J16 a HANDLE crosses as a duplicate descriptor (SCM_RIGHTS), [in] and [out], sync and async"
case_simple uninit "J10 CoUninitialize in a client with calls in flight (an aggregated call object's too): RPC_E_SERVER_DIED, nothing hangs; the server releases its objects"
case_simple J14 "J14 NULL [ref] fails with RPC_X_NULL_REF_POINTER, nothing sent"
case_simple J13 "J13 hostile bytes: garbage, oversized, unknown object/method, truncated, 300 corruptions"
case_simple J15 "J15 a HELLO or header of another version is refused"

# J1: after the server revoked and ended, the class is no longer registered
setup J1-gone
rc=0
if start_server; then stop_server; client notreg || rc=$?; report "J1 revoked: REGDB_E_CLASSNOTREG once the server is gone" "$rc"
else stop_server term; fail "J1 revoked" "the server did not register" "$DIR/server.err"; fi

# J1: REGCLS_SINGLEUSE serves one activation
setup J1-single
rc=0
if start_server --single; then
    client first || rc=$?
    [ $rc -ne 0 ] || client notreg || rc=$?
    stop_server term
    report "J1 REGCLS_SINGLEUSE: one activation, then REGDB_E_CLASSNOTREG" "$rc"
else stop_server term; fail "J1 REGCLS_SINGLEUSE" "the server did not register" "$DIR/server.err"; fi

# J2: activation on demand through a class file (the server refuses to run without -Embedding)
setup J2
printf '# the oop tests server\nExec=%s\n' "$PWD/$SRV_BIN" > "$DIR/classes/$CLSID.class"
rc=0
client J2 || rc=$?
spid=$(sed -n 's/^server //p' "$DIR/client.out" | head -1)
if [ $rc -ne 0 ]; then
    fail "J2 a class file starts the server with -Embedding" "client: $(status_text $rc)" "$DIR/client.out"
elif [ -z "$spid" ] || ! gone "$spid"; then
    fail "J2 a class file starts the server with -Embedding" "the started server (${spid:-?}) did not end" "$DIR/client.out"
else
    ok "J2 a class file starts the server with -Embedding"
fi
[ -z "$spid" ] || kill -KILL "$spid" 2>/dev/null

# J2: a class file found relative to its directory, in the per-user directory
setup J2-home
mkdir -p "$DIR/home/.local/share/amidl/classes"
ln -s "$PWD/$SRV_BIN" "$DIR/home/.local/share/amidl/classes/oop-server"
printf 'Exec=oop-server\n' > "$DIR/home/.local/share/amidl/classes/$CLSID.class"
rc=0
client J2 || rc=$?
spid=$(sed -n 's/^server //p' "$DIR/client.out" | head -1)
if [ $rc -eq 0 ] && [ -n "$spid" ] && gone "$spid"; then ok "J2 the per-user class directory, a relative Exec"
else fail "J2 the per-user class directory, a relative Exec" "client: $(status_text $rc)" "$DIR/client.out"; fi
[ -z "$spid" ] || kill -KILL "$spid" 2>/dev/null

setup J2-notreg
check "J2 no class file: REGDB_E_CLASSNOTREG" "$CLI_BIN" notreg

setup J2-exec
printf 'Exec=%s\n' "$DIR/no-such-server" > "$DIR/classes/$CLSID.class"
check "J2 an executable that cannot start: CO_E_SERVER_EXEC_FAILURE" "$CLI_BIN" exec-failure

setup J2-timeout
printf '#!/bin/sh\necho $$ > "%s/started.pid"\nexec sleep 60\n' "$DIR" > "$DIR/never-registers"
chmod +x "$DIR/never-registers"
printf 'Exec=%s\n' "$DIR/never-registers" > "$DIR/classes/$CLSID.class"
AMIDL_SERVER_START_TIMEOUT=300 check "J2 a server that does not register in time: CO_E_SERVER_START_TIMEOUT" "$CLI_BIN" start-timeout
[ -s "$DIR/started.pid" ] && kill -KILL "$(cat "$DIR/started.pid")" 2>/dev/null

# J3: the server serves on the socket a supervisor handed it (LISTEN_FDS)
setup J3
rc=0
limit 300 "$CLI_BIN" listen "$DIR/handed.sock" "$SRV_BIN" --serve > "$DIR/server.out" 2> "$DIR/server.err" &
SRV=$!
if wait_for "$DIR/server.out" '^ready'; then
    SRV_PID=$(sed -n 's/^ready //p' "$DIR/server.out")
    client J3 "$DIR/handed.sock" || rc=$?
    own=$(ls "$DIR/run" | grep -c '^server-' || true)
    stop_server
    if [ "$own" -ne 0 ]; then echo "the server made a socket of its own" >> "$DIR/client.out"; rc=1; fi
    report "J3 LISTEN_FDS: the server serves on the socket it was handed" "$rc"
else
    stop_server term; fail "J3 LISTEN_FDS" "the server did not register" "$DIR/server.err"
fi

# J10: the server killed with calls in flight; the server ending with clients connected
setup J10-kill
rc=0
if start_server; then client J10-kill || rc=$?; stop_server none; report "J10 server SIGKILLed mid-call (an aggregated call object's too): RPC_E_SERVER_DIED, then RPC_E_DISCONNECTED" "$rc" 137
else stop_server term; fail "J10 SIGKILL" "the server did not register" "$DIR/server.err"; fi
setup J10-close
rc=0
if start_server; then client J10-close || rc=$?; stop_server none; report "J10 server quits with calls in flight: RPC_E_SERVER_DIED" "$rc"
else stop_server term; fail "J10 close" "the server did not register" "$DIR/server.err"; fi

# J11: a client killed mid-call: its references released, its call canceled
setup J11
rc=0
if start_server; then
    limit 120 "$CLI_BIN" victim > "$DIR/victim.out" 2>&1 &
    victim=$!
    if wait_for "$DIR/victim.out" '^ready'; then
        kill -KILL "$(sed -n 's/^ready //p' "$DIR/victim.out")" 2>/dev/null
        wait "$victim" 2>/dev/null
        client witness || rc=$?
    else
        kill -KILL "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
        cat "$DIR/victim.out" >> "$DIR/client.out"; rc=1
    fi
    stop_server
    report "J11 client SIGKILLed mid-call: its objects released, its call canceled" "$rc"
else stop_server term; fail "J11" "the server did not register" "$DIR/server.err"; fi

# J12: the rendezvous directory is private; another user is refused
setup J12-private
unset AMIDL_RUNDIR
mkdir -p "$DIR/xdg/amidl" "$DIR/xdg2"
chmod 0777 "$DIR/xdg/amidl"
rc=0
XDG_RUNTIME_DIR=$DIR/xdg client J12-private || rc=$?
XDG_RUNTIME_DIR=$DIR/xdg limit 60 "$SRV_BIN" --serve > "$DIR/server.out" 2>> "$DIR/client.out"
src=$?
if [ $rc -eq 0 ] && [ $src -eq 1 ] && grep -q 'CoRegisterClassObject: 0x80070005' "$DIR/client.out"; then
    ok "J12 a rendezvous directory others may enter: E_ACCESSDENIED in client and server"
else
    fail "J12 a rendezvous directory others may enter" "client $(status_text $rc), server exit $src" "$DIR/client.out"
fi
export XDG_RUNTIME_DIR=$DIR/xdg2
rc=0
if start_server; then
    mode=$(stat -c %a "$DIR/xdg2/amidl")
    client J1 || rc=$?
    stop_server
    [ "$mode" = 700 ] || { echo "rendezvous directory mode $mode" >> "$DIR/client.out"; rc=1; }
    report "J12 \$XDG_RUNTIME_DIR/amidl is created mode 0700 and used" "$rc"
else stop_server term; fail "J12 XDG_RUNTIME_DIR" "the server did not register" "$DIR/server.err"; fi
unset XDG_RUNTIME_DIR

setup J12-other
if [ "$(id -u)" -ne 0 ]; then
    skip "J12 another user is refused with E_ACCESSDENIED" "needs root (setpriv)"
elif ! command -v setpriv > /dev/null; then
    skip "J12 another user is refused with E_ACCESSDENIED" "setpriv missing"
else
    rc=0
    chmod 0711 "$TMP" "$DIR"
    if start_server; then
        chmod 0755 "$DIR/run"
        chmod 0777 "$DIR/run"/server-*.sock
        limit 60 setpriv --reuid=65534 --regid=65534 --clear-groups "$CLI_BIN" J12-other >> "$DIR/client.out" 2>&1 || rc=$?
        [ $rc -ne 0 ] || client J1 || rc=$?        # the server serves its own user on
        stop_server
        report "J12 another user is refused with E_ACCESSDENIED" "$rc"
    else stop_server term; fail "J12 another user" "the server did not register" "$DIR/server.err"; fi
fi

# J13: a message beyond the configured limit
setup J13-limit
rc=0
if AMRT_MAX_MESSAGE=65536 start_server; then client J13-limit || rc=$?; stop_server; report "J13 a message beyond AMRT_MAX_MESSAGE drops that call, the server serves on" "$rc"
else stop_server term; fail "J13 limit" "the server did not register" "$DIR/server.err"; fi

# J15: a client of another protocol version is told so on connect
setup J15-client
rc=0
if start_server; then AMIDL_TEST_PROTO_VERSION=2 client J15-client || rc=$?; stop_server; report "J15 a client of another version: RPC_E_VERSION_MISMATCH on connect" "$rc"
else stop_server term; fail "J15 client" "the server did not register" "$DIR/server.err"; fi

# 32 clients x 1 server: random calls, cancels, releases in flight, callbacks
setup stress
rc=0
if start_server; then
    pids=
    for n in $(seq 1 32); do
        limit 300 "$CLI_BIN" stress "$n" > "$DIR/stress-$n.out" 2>&1 &
        pids="$pids $!"
    done
    for p in $pids; do wait "$p" || rc=$?; done
    for n in $(seq 1 32); do cat "$DIR/stress-$n.out" >> "$DIR/client.out"; done
    [ $rc -ne 0 ] || client after-stress || rc=$?
    stop_server
    report "J6 32 clients x 1 server, 150 random calls each: cancels, releases in flight, callbacks; nothing leaks" "$rc"
else stop_server term; fail "J6 stress" "the server did not register" "$DIR/server.err"; fi

# The programs with server and client roles (oop-kinds, oop-srvasync,
# oop-callas). roles_start BIN NAME [ARGS]: a private directory and BIN's
# server (SRV, SRV_PID); roles_case BIN NAME TEST [CLIENT ARGS]: that
# server, one client, the server stopped, TEST reported.
roles_start() {
    local bin=$1
    setup "$2"
    shift 2
    limit 300 "$bin" server "$@" > "$DIR/server.out" 2> "$DIR/server.err" &
    SRV=$!
    wait_for "$DIR/server.out" '^ready' || return 1
    SRV_PID=$(sed -n 's/^ready //p' "$DIR/server.out")
}
roles_case() {
    local bin=$1 setup_name=$2 name=$3 rc=0
    shift 3
    if ! roles_start "$bin" "$setup_name"; then
        stop_server term; fail "$name" "the server did not register" "$DIR/server.err"; return
    fi
    limit 120 "$bin" client "$@" >> "$DIR/client.out" 2>&1 || rc=$?
    stop_server term
    report "$name" "$rc"
}

# tests/e2e/kinds.idl's kinds across the boundary, both directions
roles_case "${OOP_BUILD:-$BUILD}/tests/oop-kinds" kinds "J4 kinds.idl across the boundary: scalars, structs, strings, GUIDs, arrays, varying, unique, objects, iid_is, unions, BSTRs, size expressions, first_is/last_is, callee-allocated, string arrays, [ptr] aliasing, NAMED lists with objects, conformant structures and NULL [unique], descriptors (J16), MEDIUM unions, [in, out] replaced, sync and async"

# the simplestream sample's two-process form (make run-remote): the client
# starts stream_server through the class file in the build tree
setup sample
export AMIDL_CLASS_PATH=$PWD/$BUILD/samples/simplestream/classes
rc=0
limit 60 "$BUILD/samples/simplestream/client" --remote > "$DIR/client.out" 2>&1 || rc=$?
i=0
while [ $i -lt "$WAIT_STEPS" ] && [ -n "$(ls "$DIR/run" 2>/dev/null)" ]; do sleep 0.05; i=$((i + 1)); done
if [ $rc -ne 0 ]; then
    fail "J2 samples/simplestream --remote: the server process started on demand" "$(status_text $rc)" "$DIR/client.out"
elif ! grep -q 'another process' "$DIR/client.out" || [ -n "$(ls "$DIR/run" 2>/dev/null)" ]; then
    fail "J2 samples/simplestream --remote: the server process started on demand" "the server did not end" "$DIR/client.out"
else
    ok "J2 samples/simplestream --remote: the server process started on demand"
fi

# stream_server again, with an object that lives for no time at all: the
# client activates it, releases it at once and uninitializes; the server
# must still end with its last object (it used to miss an object whose life
# fell between two looks at the count, and stayed for its idle minute).
# A few rounds, each bounded only by the hang limit.
setup sample-instant
export AMIDL_CLASS_PATH=$PWD/$BUILD/samples/simplestream/classes
rc=0 why=
for round in 1 2 3 4 5; do
    "$CLI_BIN" touch 5e2f3b1a-7c4d-4e8f-9a0b-1c2d3e4f5a62 >> "$DIR/client.out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { why="round $round: the client: $(status_text $rc)"; break; }
    i=0
    while [ $i -lt "$WAIT_STEPS" ] && [ -n "$(ls "$DIR/run" 2>/dev/null)" ]; do sleep 0.05; i=$((i + 1)); done
    if [ -n "$(ls "$DIR/run" 2>/dev/null)" ]; then
        why="round $round: the server did not end after the client's last release"
        for s in "$DIR"/run/server-*.sock; do
            p=${s##*/server-}; p=${p%.sock}
            case $p in ''|*[!0-9]*) ;; *) kill "$p" 2>/dev/null ;; esac
        done
        break
    fi
done
if [ -n "$why" ]; then
    fail "J2 stream_server ends with an object released at once (5 rounds)" "$why" "$DIR/client.out"
else
    ok "J2 stream_server ends with an object released at once (5 rounds)"
fi

# activation against a server that is deciding to end (J2): stream_server
# ends with its last object; a second client activating at that moment must
# reach a live server or start a new one, never hear REGDB_E_CLASSNOTREG or
# hang. Two clients a few ms apart, 20 rounds, each client under a limit.
setup activate-race
export AMIDL_CLASS_PATH=$PWD/$BUILD/samples/simplestream/classes
why=
for round in $(seq 1 20); do
    limit 30 "$CLI_BIN" touch 5e2f3b1a-7c4d-4e8f-9a0b-1c2d3e4f5a62 >> "$DIR/client.out" 2>&1 &
    first=$!
    sleep "0.00$((round % 10))"
    rc=0
    limit 30 "$CLI_BIN" touch 5e2f3b1a-7c4d-4e8f-9a0b-1c2d3e4f5a62 >> "$DIR/client.out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || why="round $round: the second client: $(status_text $rc)"
    rc=0
    wait "$first" || rc=$?
    [ $rc -eq 0 ] || why="round $round: the first client: $(status_text $rc)"
    [ -z "$why" ] || break
done
if [ -n "$why" ]; then
    fail "J2 activation while the server ends: a live server or a new one (20 rounds)" "$why" "$DIR/client.out"
else
    ok "J2 activation while the server ends: a live server or a new one (20 rounds)"
fi
# two clients that both found no server start two: the one that lost the
# rendezvous has its own client too (each client asks the server it
# started), so every server ends with its last object, none waits out its
# idle minute for a client that went elsewhere (bounded: 15 s); then end
# whatever is left
i=0
while [ $i -lt 300 ] && [ -n "$(ls "$DIR"/run/server-*.sock 2>/dev/null)" ]; do sleep 0.05; i=$((i + 1)); done
left=$(ls "$DIR"/run/server-*.sock 2>/dev/null | wc -l)
for s in "$DIR"/run/server-*.sock; do
    p=${s##*/server-}; p=${p%.sock}
    case $p in ''|*[!0-9]*) ;; *) kill "$p" 2>/dev/null ;; esac
done
if [ "$left" -eq 0 ]; then
    ok "J2 two servers started at once each serve their own client and end (20 rounds)"
else
    fail "J2 two servers started at once each serve their own client and end (20 rounds)" "$left server(s) still running 15 s after the last client" "$DIR/client.out"
fi

# Server-side asynchronous processing across the boundary (RULES.md E, J5,
# J7) and the server's lifetime helpers (CoAddRefServerProcess,
# CoReleaseServerProcess, CoSuspendClassObjects, CoResumeClassObjects):
# tests/oop/oop-srvasync.c, server and client roles of one executable
SA_BIN=${OOP_BUILD:-$BUILD}/tests/oop-srvasync

# sa_start NAME [ARGS]: a private directory and the server (SRV, SRV_PID)
sa_start() { roles_start "$SA_BIN" "$@"; }

# sa_client CASE: one client process running CASE
sa_client() {
    limit 120 "$SA_BIN" client "$@" >> "$DIR/client.out" 2>&1
}

# sa_case CASE NAME: a server, one client running CASE, the server stopped
sa_case() { roles_case "$SA_BIN" "srvasync-$1" "$2" "$1"; }

sa_case calls "E J5 a server object with ICallFactory: its call object's Begin_/Finish_ serve synchronous calls and call objects from another process (their results, not the synchronous methods'), a refused Begin_ is the result, E8 IAsyncManager::CompleteCall ends the call; without ICallFactory the synchronous methods"
sa_case cancel "E D J7 a client's Cancel reaches the server's call object: TestCancel on its controlling unknown, its own ICancelMethodCalls::Cancel; Finish_ RPC_E_CALL_CANCELED; the server's Finish_ still runs, nothing leaks"
sa_case pending "E J6 pending calls hold no threads: 48 calls waiting for the server's Signal at once, the server has its 48 working threads and a few of the runtime's (not one more each); every cancel reaches its server call object, Finish_ RPC_E_CALL_CANCELED, the server's Finish_ runs for each"
sa_case later "E8 after Begin_ returned: the server's work thread ends the waiting call with IAsyncManager::CompleteCall (a call object's call and a synchronous one get its result, no Finish_ runs, the Signal after it changes nothing); the call object serves on"

# J11: a client SIGKILLed while the server's call object works for it
rc=0
if sa_start srvasync-J11; then
    limit 120 "$SA_BIN" client victim > "$DIR/victim.out" 2>&1 &
    victim=$!
    if wait_for "$DIR/victim.out" '^ready'; then
        kill -KILL "$(sed -n 's/^ready //p' "$DIR/victim.out")" 2>/dev/null
        wait "$victim" 2>/dev/null
        sa_client witness || rc=$?
    else
        kill -KILL "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
        cat "$DIR/victim.out" >> "$DIR/client.out"; rc=1
    fi
    stop_server term
    report "E J11 a client SIGKILLed mid-call: the server's call object sees TestCancel say canceled and is told, its Finish_ runs, nothing leaks" "$rc"
else
    stop_server term; fail "E J11" "the server did not register" "$DIR/server.err"
fi

rc=0
if sa_start srvasync-procrefs --procrefs; then
    sa_client procrefs || rc=$?
    if [ $rc -eq 0 ] && ! wait_for "$DIR/server.out" '^suspended 0'; then
        echo "the server's CoReleaseServerProcess did not return 0" >> "$DIR/client.out"; rc=1
    fi
    [ $rc -ne 0 ] || sa_client notreg || rc=$?
    stop_server term
    report "CoAddRefServerProcess/CoReleaseServerProcess count; the last release suspends the class objects: REGDB_E_CLASSNOTREG" "$rc"
else
    stop_server term; fail "CoAddRefServerProcess/CoReleaseServerProcess" "the server did not register" "$DIR/server.err"
fi

rc=0
if sa_start srvasync-suspended --suspended; then
    sa_client notreg || rc=$?
    kill -USR1 "$SRV_PID" 2>/dev/null
    if [ $rc -eq 0 ] && ! wait_for "$DIR/server.out" '^resumed'; then
        echo "the server did not resume" >> "$DIR/client.out"; rc=1
    fi
    [ $rc -ne 0 ] || sa_client one || rc=$?
    stop_server term
    report "REGCLS_SUSPENDED: REGDB_E_CLASSNOTREG until CoResumeClassObjects, then served" "$rc"
else
    stop_server term; fail "REGCLS_SUSPENDED" "the server did not register" "$DIR/server.err"
fi

# [local] methods with [call_as] twins (RULES.md A10): the program's
# conversion functions on each side, synchronously and through call objects;
# a [local] method without a twin: E_NOTIMPL across, working in-process
roles_case "${OOP_BUILD:-$BUILD}/tests/oop-callas" callas "A10 [call_as] across the boundary: IFoo_M_Proxy/IFoo_M_Stub convert, sync and through Begin_/Finish_ (AsyncIFoo_Begin_M_Proxy...), flat and not, through a derived interface; a [local] method without a twin E_NOTIMPL across, in-process as before"

# the twins' requests at a server object with its own ICallFactory (RULES.md
# A10 with E): AsyncIFoo_Begin_M_Stub/Finish_M_Stub to its call objects
rc=0
if roles_start "${OOP_BUILD:-$BUILD}/tests/oop-callas" callas-srvasync srvasync; then
    limit 120 "${OOP_BUILD:-$BUILD}/tests/oop-callas" client srvasync >> "$DIR/client.out" 2>&1 || rc=$?
    stop_server term
    report "A10 E [call_as] twins at a server object with its own ICallFactory: AsyncIFoo_Begin_M_Stub/AsyncIFoo_Finish_M_Stub (counted) reach its call objects, sync and call-object clients, through a derived interface; a canceled call reaches the server's call object (TestCancel, its own Cancel), Finish_ RPC_E_CALL_CANCELED; released without Finish_; nothing leaks" "$rc"
else
    stop_server term; fail "A10 E [call_as] srvasync" "the server did not register" "$DIR/server.err"
fi

roles_case "${OOP_BUILD:-$BUILD}/tests/oop-variant" variant "J4 #13 Automation's VARIANT (VT_EMPTY, VT_NULL, VT_I1..VT_UI8, VT_INT, VT_UINT, VT_R4, VT_R8, VT_BOOL, VT_ERROR, VT_CY, VT_DATE, VT_DECIMAL, VT_BSTR, VT_UNKNOWN, VT_BYREF of scalars, VT_ARRAY of scalars, BSTRs, VARIANTs and objects), BSTR and SAFEARRAY both ways and [in, out], across the boundary and through in-process call objects; VT_RECORD, bad vts, inconsistent arrays refused, VT_DISPATCH in-process only"

suite_end
