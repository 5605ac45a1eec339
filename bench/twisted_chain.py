#!/usr/bin/env python3
"""Twisted baseline for `deferred-bench chain`.

The same workload as the C side: one Deferred with N trivial callbacks,
fired, released, repeated; prints the median nanoseconds (CPU time of the
thread) per callback for each N given on the command line.

    twisted_chain.py [--quick] N [N ...]

Output, one fact per line:
    version 22.4.0
    chain N NS_PER_CALLBACK

Exit status 3 when Twisted cannot be imported (the caller reports the
baseline as unavailable), 2 for bad arguments.
"""
import statistics
import sys
import time

try:
    import twisted
    from twisted.internet.defer import Deferred
except ImportError:
    sys.exit(3)


def trivial(result):
    return result


def chain_sample(n, iters):
    """Nanoseconds per callback over iters Deferreds of n callbacks each."""
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(iters):
        d = Deferred()
        for _ in range(n):
            d.addCallback(trivial)
        d.callback(None)
        del d
    return (clock() - start) / (iters * n)


def main(argv):
    quick = False
    sizes = []
    for arg in argv:
        if arg == "--quick":
            quick = True
        else:
            try:
                sizes.append(int(arg))
            except ValueError:
                print("bad argument: %r" % arg, file=sys.stderr)
                return 2
    if not sizes or min(sizes) < 1:
        print("usage: twisted_chain.py [--quick] N [N ...]", file=sys.stderr)
        return 2

    # About 0.05 s per sample at Twisted's speed (10x less when quick).
    callbacks_per_sample = 20000 if quick else 200000
    samples = 3 if quick else 7
    print("version %s" % twisted.__version__)
    for n in sizes:
        iters = max(1, callbacks_per_sample // n)
        chain_sample(n, max(1, iters // 10))  # warm-up
        runs = [chain_sample(n, iters) for _ in range(samples)]
        print("chain %d %.3f" % (n, statistics.median(runs)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
