#!/usr/bin/env bash
# tier: check
# The compiler at scale (#13): interface base chains 20,000 deep, in both
# orders (each base before its user, as widl wants; each after it, as MIDL
# accepts), are accepted; past the old 1,000-level cut a chain still gives
# the right vtable (slot of every method, C names of the methods a base
# already names, macros) and still knows it derives from IDispatch; a long
# inheritance cycle is still found. The files come from
# tests/scale/gen_chain.py. No time is asserted here: `make bench` has it.
. tests/lib.sh

GEN=tests/scale/gen_chain.py
D=$TMP/scale
mkdir -p "$D"

# --check on a whole chain of N: exit 0 and no diagnostic
for form in forward reverse; do
    name="20,000-deep $form chain: --check accepts it"
    python3 "$GEN" "$D/$form.idl" 20000 "$form"
    rc=0
    limit 120 "$AMIDL" --check -w -I runtime/idl "$D/$form.idl" > "$D/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "$name" "$(status_text "$rc")" "$D/out"
    elif [ -s "$D/out" ]; then fail "$name" "it printed something" "$D/out"
    else ok "$name"; fi
done

# the reverse chain closed into a cycle (the last base is the first
# interface): one located error
sed 's/interface I19999 : IUnknown/interface I19999 : I0/' "$D/reverse.idl" > "$D/cycle.idl"
rc=0
limit 120 "$AMIDL" --check -w -I runtime/idl "$D/cycle.idl" > "$D/out" 2>&1 || rc=$?
if [ "$rc" -ne 1 ]; then fail "20,000-long inheritance cycle: an error" "$(status_text "$rc")" "$D/out"
elif ! grep -q "cycle.idl:[0-9]*:[0-9]*: error: interface 'I[0-9]*' inherits from itself" "$D/out"; then
    fail "20,000-long inheritance cycle: an error" "no 'inherits from itself' error" "$D/out"
else ok "20,000-long inheritance cycle: 'inherits from itself'"; fi

# ILast derives from the deepest interface of an imported chain of 1,500
# (3,000 methods under it; the header of the chain itself is not written:
# each of its vtables holds the whole chain). Its C vtable, checked by the
# C compiler: IUnknown's three slots, then the chain root first, each
# interface's M<i> and Same (spelled I<i>_Same below the first), then
# ILast's own Same (ILast_Same) and Own.
cat > "$D/vtbl.c" <<'CEOF'
#define COBJMACROS
#include <stddef.h>
#include "main.h"
#define SLOT(m) (offsetof(ILastVtbl, m) / sizeof(void *))
_Static_assert(SLOT(QueryInterface) == 0 && SLOT(Release) == 2, "IUnknown first");
_Static_assert(SLOT(Same) == 4, "the root's Same keeps its name");
_Static_assert(SLOT(DEEPEST_M) == 3001, "the deepest base's own method");
_Static_assert(SLOT(DEEPEST_SAME) == 3002, "the deepest base's Same");
_Static_assert(SLOT(ILast_Same) == 3003, "ILast's Same: named ILast_Same");
_Static_assert(SLOT(Own) == 3004, "ILast's last method");
_Static_assert(sizeof(ILastVtbl) == 3005 * sizeof(void *), "3005 slots");
HRESULT call_all(ILast *p)
{
    return ILast_Same(p) | ILast_Own(p) | ILast_DEEPEST_M(p, 1) | ILast_ROOT_M(p, 2) | (HRESULT)ILast_Release(p);
}
CEOF
for form in forward reverse; do
    mkdir -p "$D/$form-h"
    python3 "$GEN" "$D/$form-h/chain.idl" 1500 "$form"
    if [ "$form" = forward ]; then deepest=I1499; else deepest=I0; fi
    cat > "$D/$form-h/main.idl" <<IEOF
import "chain.idl";
[object, uuid(5b1c7e02-3a4d-4e5f-8a6b-0000ffffffff)] interface ILast : $deepest
{
    HRESULT Same(void);
    HRESULT Own(void);
}
IEOF
    : > "$D/$form-h/chain.h"      # the chain's own header: not needed by C
    name="1,500-deep imported $form chain: ILast's C vtable and macros (gcc)"
    rc=0
    limit 120 "$AMIDL" -I runtime/idl --no-glue --outdir "$D/$form-h" "$D/$form-h/main.idl" > "$D/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "$name" "amidl: $(status_text "$rc")" "$D/out"; continue; fi
    # in the forward form the chain's root is I0 and the deepest is I1499
    if [ "$form" = forward ]; then m_deep=M1499 s_deep=I1499_Same m_root=M0; else m_deep=M0 s_deep=I0_Same m_root=M1499; fi
    check "$name" gcc -std=c11 -Wall -Wextra -Werror -c -o "$D/$form-h/vtbl.o" -Iruntime/include \
        -I"$BUILD/runtime/include" -I"$D/$form-h" -DDEEPEST_M="$m_deep" -DDEEPEST_SAME="$s_deep" \
        -DILast_DEEPEST_M="ILast_$m_deep" -DILast_ROOT_M="ILast_$m_root" "$D/vtbl.c"
done

# the same vtable as widl writes it (the forward form, which widl accepts)
if [ -x "$SHARED/tools/widl" ]; then
    W=$D/forward-h
    rc=0
    limit 300 "$SHARED/tools/widl" -I runtime/idl -h -H "$W/widl_main.h" "$W/main.idl" > "$D/out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then fail "1,500-deep chain: widl's header" "widl: $(status_text "$rc")" "$D/out"
    else
        block() { sed -n '/^typedef struct ILastVtbl {/,/^} ILastVtbl;/p; /^#define ILast_/p' "$1"; }
        block "$W/main.h" > "$D/a"; block "$W/widl_main.h" > "$D/w"
        if [ "$(wc -l < "$D/a")" -lt 6000 ]; then fail "1,500-deep chain: vtable and macros as widl's" "only $(wc -l < "$D/a") lines" "$D/a"
        elif ! diff "$D/w" "$D/a" > "$D/out"; then fail "1,500-deep chain: vtable and macros as widl's" "they differ (< widl, > amidl)" "$D/out"
        else ok "1,500-deep chain: ILastVtbl and the ILast_ macros as widl writes them ($(wc -l < "$D/a") lines)"; fi
    fi
else
    skip "1,500-deep chain: vtable as widl's" "no widl at $SHARED/tools/widl"
fi

# rooted at IDispatch 1,100 levels down: async_uuid is still refused (the
# walk stopped at 1,000 levels and let it through)
python3 "$GEN" "$D/disp.idl" 1100 forward --dispatch
cat >> "$D/disp.idl" <<'IEOF'
[object, uuid(5b1c7e02-3a4d-4e5f-8a6b-0000fffffff0), async_uuid(5b1c7e02-3a4d-4e5f-8a6b-0000fffffff1)]
interface IAsyncLast : I1099 { HRESULT Go(void); }
IEOF
rc=0
limit 120 "$AMIDL" --check -w -I runtime/idl "$D/disp.idl" > "$D/out" 2>&1 || rc=$?
if [ "$rc" -ne 1 ]; then fail "1,100 levels below IDispatch: async_uuid refused" "$(status_text "$rc")" "$D/out"
elif ! grep -q "disp.idl:[0-9]*:[0-9]*: error: async_uuid is not allowed on 'IAsyncLast': it derives from IDispatch" "$D/out"; then
    fail "1,100 levels below IDispatch: async_uuid refused" "no 'derives from IDispatch' error" "$D/out"
else ok "1,100 levels below IDispatch: async_uuid refused ('derives from IDispatch')"; fi
suite_end
