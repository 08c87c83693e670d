#!/usr/bin/env bash
# tier: check
# The samples, run: their output is checked line by line, not only their
# exit status (valgrind runs them in the valgrind suite).
. tests/lib.sh

# sample NAME BINARY PATTERN...: one check per pattern the output must hold
sample() {
    local name=$1 bin=$2 rc=0; shift 2
    if [ ! -x "$bin" ]; then fail "$name" "$bin is missing (build it with make)"; return; fi
    limit 60 "$bin" > "$TMP/$name.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "$name runs" "$(status_text "$rc")" "$TMP/$name.out"; return; fi
    ok "$name runs"
    local want
    for want in "$@"; do
        if grep -q -- "$want" "$TMP/$name.out"; then ok "$name prints: $want"
        else fail "$name prints: $want" "not in its output" "$TMP/$name.out"; fi
    done
}

sample simplestream "$BUILD/samples/simplestream/client" \
    "1. QueryInterface(IID_ICallFactory) .*-> S_OK" \
    "2. CreateCall(IID_AsyncISimpleStream), release the factory -> S_OK" \
    "4. Begin_Read(cb = 64) .*-> S_OK" \
    "a second Begin_ while the call is pending .*-> RPC_E_CALL_PENDING" \
    "2. Wait(50 ms) while the server waits for its device .*-> RPC_E_TIMEOUT" \
    "Wait(INFINITE) until the call is done .*-> S_OK" \
    "3. Finish_Read(buf, &cbRead) .*-> S_OK" \
    'read 44 bytes: "The quick brown fox jumps over the lazy dog."' \
    "Finish_ with no call in progress .*-> RPC_E_CALL_COMPLETE" \
    "Finish_Write(&cbWritten) (blocks until done) .*-> S_OK" \
    "wrote 10 bytes" \
    'read 10 bytes: " And back."' \
    "live server objects: 0"
sample simplestream-c++ "$BUILD/samples/simplestream/client_cxx" \
    "Wait(50 ms) -> RPC_E_TIMEOUT while the device was not ready" \
    'read 44 bytes: "The quick brown fox jumps over the lazy dog."'
# RULES.md E: the server's own call object serves the client's call
sample serverasync "$BUILD/samples/serverasync" \
    "Wait(25 ms) while the server works .*-> RPC_E_TIMEOUT" "Wait(INFINITE) once it may finish .*-> S_OK" \
    "Finish_Read .*-> S_OK: \"Served asynchronously by the server.s own call object.\"" \
    "ran 1 call" "call objects: 0"
# RULES.md D: Cancel(0) -> S_OK, Finish_ -> RPC_E_CALL_CANCELED, the server stops
sample cancel "$BUILD/samples/cancel" \
    "Cancel(0) .*-> S_OK" "Finish_Read .*-> RPC_E_CALL_CANCELED, pcbRead untouched (99)" \
    "a new Begin_ before Finish_ .*-> RPC_E_CALL_PENDING" \
    "noticed the cancellation (CoTestCancel) and stopped before the end of its work"
# 1,000 calls collected through WaitMultiple and poll(), every result right
sample fanout "$BUILD/samples/fanout" \
    "63 collected through ISynchronizeContainer::WaitMultiple, 937 through poll()" \
    "1000 of 1000 results correct, 0 wrong" "throughput: [0-9]* calls/s"
[ -f "$TMP/fanout.out" ] && grep throughput "$TMP/fanout.out"
suite_end
