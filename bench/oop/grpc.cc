/*
 * grpc.cc - gRPC C++ over a unix: address. The server is a synchronous
 * service (ServerBuilder, its own thread pool); the client calls the
 * generated stub synchronously (round trip), or keeps 64 AsyncAdd calls in
 * flight on a CompletionQueue (pipelined), each with its ClientContext as
 * gRPC requires.
 * One executable: "grpc server PATH" or "grpc client PATH".
 */
#include "harness.h"
#include "grpc_bench.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>

namespace {

class Impl final : public oopbench::Bench::Service {
    grpc::Status Add(grpc::ServerContext *, const oopbench::AddRequest *q, oopbench::AddReply *r) override
    {
        r->set_r(q->a() + q->b());
        return grpc::Status::OK;
    }
};

[[noreturn]] void server(const char *path)
{
    Impl impl;
    grpc::ServerBuilder b;
    b.AddListeningPort(std::string("unix:") + path, grpc::InsecureServerCredentials());
    b.RegisterService(&impl);
    std::unique_ptr<grpc::Server> s = b.BuildAndStart();
    if (!s)
        oop_die("gRPC server did not start on unix:%s", path);
    oop_server_ready();
    s->Wait();
    _exit(0);
}

std::unique_ptr<oopbench::Bench::Stub> stub;

int c_connect(const char *path)
{
    auto ch = grpc::CreateChannel(std::string("unix:") + path, grpc::InsecureChannelCredentials());
    if (!ch->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)))
        return oop_error("gRPC: no connection to unix:%s", path);
    stub = oopbench::Bench::NewStub(ch);
    return 0;
}

int c_rt(long n)
{
    for (long i = 0; i < n; i++) {
        grpc::ClientContext ctx;
        oopbench::AddRequest q;
        oopbench::AddReply r;
        q.set_a((int32_t)i);
        q.set_b(1);
        grpc::Status st = stub->Add(&ctx, q, &r);
        if (!st.ok())
            return oop_error("gRPC call: %s", st.error_message().c_str());
        if (oop_check((int)i, 1, r.r()) < 0)
            return -1;
    }
    return 0;
}

struct Call {
    grpc::ClientContext ctx;
    oopbench::AddReply reply;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<oopbench::AddReply>> rpc;
    long i;
};

void start(grpc::CompletionQueue *cq, long i)
{
    Call *c = new Call;
    oopbench::AddRequest q;
    q.set_a((int32_t)i);
    q.set_b(1);
    c->i = i;
    c->rpc = stub->AsyncAdd(&c->ctx, q, cq);
    c->rpc->Finish(&c->reply, &c->status, c);
}

int c_pipe(long n, int depth)
{
    grpc::CompletionQueue cq;
    long sent = 0, got = 0, failed = 0;
    for (; sent < n && sent < depth; sent++)
        start(&cq, sent);
    while (got < n) {
        void *tag;
        bool ok;
        if (!cq.Next(&tag, &ok))
            return oop_error("gRPC completion queue shut down");
        Call *c = static_cast<Call *>(tag);
        if (!ok || !c->status.ok() || c->reply.r() != c->i + 1)
            failed++;
        delete c;
        got++;
        if (sent < n)
            start(&cq, sent++);
    }
    cq.Shutdown();
    void *tag;
    bool ok;
    while (cq.Next(&tag, &ok))
        ;
    if (failed)
        return oop_error("%ld calls failed", failed);
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
