/*
 * capnp.cc - Cap'n Proto RPC through EzRpc over a unix: address. The
 * server is an EzRpcServer whose bootstrap capability implements Bench;
 * the client waits on each request's promise (round trip), or runs 64
 * promise chains at once, each sending its next request when its reply
 * arrives (pipelined, 64 in flight).
 * One executable: "capnp server PATH" or "capnp client PATH".
 */
#include "harness.h"
#include "capnp_bench.capnp.h"

#include <capnp/ez-rpc.h>
#include <kj/async.h>

#include <cstring>
#include <string>
#include <unistd.h>

namespace {

class BenchImpl final : public Bench::Server {
    kj::Promise<void> add(AddContext ctx) override
    {
        auto p = ctx.getParams();
        ctx.getResults().setR(p.getA() + p.getB());
        return kj::READY_NOW;
    }
};

[[noreturn]] void server(const char *path)
{
    try {
        capnp::EzRpcServer s(kj::heap<BenchImpl>(), std::string("unix:").append(path).c_str());
        auto &ws = s.getWaitScope();
        s.getPort().wait(ws);
        oop_server_ready();
        kj::NEVER_DONE.wait(ws);
    } catch (const kj::Exception &e) {
        oop_die("Cap'n Proto server: %s", e.getDescription().cStr());
    }
    _exit(1);
}

capnp::EzRpcClient *client;
Bench::Client *cap;

int c_connect(const char *path)
{
    try {
        client = new capnp::EzRpcClient(std::string("unix:").append(path).c_str());
        cap = new Bench::Client(client->getMain<Bench>());
        auto q = cap->addRequest();
        q.setA(1);
        q.setB(1);
        if (q.send().wait(client->getWaitScope()).getR() != 2)
            return oop_error("Cap'n Proto: wrong first reply");
    } catch (const kj::Exception &e) {
        return oop_error("Cap'n Proto connect: %s", e.getDescription().cStr());
    }
    return 0;
}

int c_rt(long n)
{
    try {
        auto &ws = client->getWaitScope();
        for (long i = 0; i < n; i++) {
            auto q = cap->addRequest();
            q.setA((int32_t)i);
            q.setB(1);
            auto r = q.send().wait(ws);
            if (oop_check((int)i, 1, r.getR()) < 0)
                return -1;
        }
    } catch (const kj::Exception &e) {
        return oop_error("Cap'n Proto call: %s", e.getDescription().cStr());
    }
    return 0;
}

long next_call, calls, failed;

/* one of the 64 chains: a call, and when its reply is in, the next */
kj::Promise<void> lane()
{
    if (next_call >= calls)
        return kj::READY_NOW;
    long i = next_call++;
    auto q = cap->addRequest();
    q.setA((int32_t)i);
    q.setB(1);
    return q.send().then([i](capnp::Response<Bench::AddResults> &&r) {
        if (r.getR() != i + 1)
            failed++;
        return lane();
    });
}

int c_pipe(long n, int depth)
{
    try {
        next_call = 0, calls = n, failed = 0;
        auto lanes = kj::heapArrayBuilder<kj::Promise<void>>(depth);
        for (int k = 0; k < depth; k++)
            lanes.add(lane());
        kj::joinPromises(lanes.finish()).wait(client->getWaitScope());
    } catch (const kj::Exception &e) {
        return oop_error("Cap'n Proto call: %s", e.getDescription().cStr());
    }
    if (failed)
        return oop_error("%ld wrong replies", failed);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        server(argv[2]);
    static const OopClient ops = { c_connect, c_rt, c_pipe, nullptr };
    if (argc == 3 && !strcmp(argv[1], "client"))
        return oop_client_main(argc - 1, argv + 1, &ops);
    oop_die("usage: %s server|client PATH", argv[0]);
}
