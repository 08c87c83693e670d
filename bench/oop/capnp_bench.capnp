# capnp_bench.capnp - the interface of the Cap'n Proto contender (capnp.cc).
@0x9602d6382de7f275;

interface Bench {
    add @0 (a :Int32, b :Int32) -> (r :Int32);
}
