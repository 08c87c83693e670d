/* test-wire.c - a smoke round trip through bytes (Scalars, Arrays, Strings of
 * tests/e2e/kinds.idl): encode request, decode as the server, call, encode
 * reply, decode into the caller pointers; and every truncation refused. */
#include "wire.h"
#include "kinds.h"
#include <stdio.h>
extern const AmrtInterface IKinds_amrt_glue;
static HRESULT STDMETHODCALLTYPE qi(IKinds *T, REFIID r, void **p) { (void)r; *p = T; return S_OK; }
static ULONG STDMETHODCALLTYPE ar(IKinds *T) { (void)T; return 1; }
static HRESULT STDMETHODCALLTYPE sc(IKinds *T, BYTE b, SHORT s, LONG l, hyper h, float f, double d, BOOL flag, COLOR c, double *total)
{ (void)T; *total = b + s + l + (double)h + f + d + (flag ? 1000 : 0) + c; return S_OK; }
static HRESULT STDMETHODCALLTYPE ar2(IKinds *T, ULONG n, const LONG *in, LONG *out, LONG *io)
{ (void)T; for (ULONG i = 0; i < n; i++) { out[i] = in[i] * 10; io[i] += 1; } return S_OK; }
static HRESULT STDMETHODCALLTYPE st(IKinds *T, const char *a, LPCWSTR w, char **copy, LPWSTR *wc)
{ (void)T; (void)w; size_t n = strlen(a) + 1; *copy = CoTaskMemAlloc(n); memcpy(*copy, a, n); *wc = NULL; return S_OK; }
int main(void)
{
    static IKindsVtbl v; v.QueryInterface = qi; v.AddRef = ar; v.Release = ar; v.Scalars = sc; v.Arrays = ar2; v.Strings = st;
    IKinds obj = { &v };
    int fails = 0;
    for (int k = 0; k < 3; k++) {
        int idx = k == 0 ? 0 : k == 1 ? 4 : 2;
        const AmrtMethod *m = amrt__wire_method(&IKinds_amrt_glue, idx);
        amrt__wire_buf req, rep; amrt__wire_buf_init(&req); amrt__wire_buf_init(&rep);
        amrt__wire_frame cf, sf; amrt__wire_frame_init(&cf); amrt__wire_frame_init(&sf);
        amrt__wire_header h = { 0 }; h.call_id = 7; h.method = idx;
        double total = 0; BYTE b = 200; SHORT s = -300; LONG l = 70000; hyper hh = 1; float f = 0.5f; double d = 0.25; BOOL fl = 1; COLOR c = BLUE;
        double *pt = &total;
        ULONG n = 3; LONG in[3] = {1,2,3}, out[3] = {0}, io[3] = {5,6,7}; const LONG *pin = in; LONG *pout = out, *pio = io;
        const char *a = "narrow"; LPCWSTR w = (LPCWSTR)u"w"; char *copy = NULL; LPWSTR wc = NULL; char **pc = &copy; LPWSTR *pw = &wc;
        void *a0[] = { &b, &s, &l, &hh, &f, &d, &fl, &c, &pt };
        void *a1[] = { &n, &pin, &pout, &pio };
        void *a2[] = { &a, &w, &pc, &pw };
        void **args = k == 0 ? a0 : k == 1 ? a1 : a2;
        HRESULT hr = amrt__wire_encode_request(&req, &h, m, args, NULL, &cf);
        printf("%s encode %08x len %zu\n", m->name, (unsigned)hr, req.len);
        hr = amrt__wire_decode_request(&sf, m, &req, NULL);
        printf("  decode %08x\n", (unsigned)hr);
        m->call(&obj, sf.args, sf.ret);
        amrt__wire_header rh = { 0 }; rh.call_id = 7;
        hr = amrt__wire_encode_reply(&rep, &rh, &sf, NULL);
        amrt__wire_frame_clear(&sf);
        printf("  reply %08x len %zu\n", (unsigned)hr, rep.len);
        HRESULT ret = 1;
        hr = amrt__wire_decode_reply(&cf, &rep, NULL, args, &ret);
        printf("  decode reply %08x ret %08x\n", (unsigned)hr, (unsigned)ret);
        if (k == 0) { printf("  total %f\n", total); fails += total != 200 - 300 + 70000 + 1 + 0.75 + 1000 + 4; }
        if (k == 1) { printf("  out %d %d %d io %d %d %d\n", out[0], out[1], out[2], io[0], io[1], io[2]); fails += out[2] != 30 || io[2] != 8; }
        if (k == 2) { printf("  copy %s\n", copy ? copy : "(null)"); fails += !copy || strcmp(copy, "narrow"); CoTaskMemFree(copy); }
        /* truncation at every byte of the request must fail cleanly */
        hr = amrt__wire_encode_request(&req, &h, m, args, NULL, &cf);
        size_t full = req.len; int ok = 0;
        for (size_t cut = AMRT__WIRE_HEADER; cut < full; cut++) {
            req.len = cut;
            uint32_t body = (uint32_t)(cut - AMRT__WIRE_HEADER); memcpy(req.data + 8, &body, 4);
            if (amrt__wire_decode_request(&sf, m, &req, NULL) == HRESULT_FROM_WIN32(RPC_X_BAD_STUB_DATA)) ok++;
        }
        printf("  truncations refused %d/%zu\n", ok, full - AMRT__WIRE_HEADER);
        fails += ok != (int)(full - AMRT__WIRE_HEADER);
        amrt__wire_frame_fini(&cf); amrt__wire_frame_fini(&sf); amrt__wire_buf_fini(&req); amrt__wire_buf_fini(&rep);
    }
    printf(fails ? "FAIL\n" : "ok\n");
    return fails != 0;
}
