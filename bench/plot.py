#!/usr/bin/env python3
"""Charts from `deferred-bench --json` output (matplotlib).

    python3 bench/plot.py BENCH.json [--out DIR] [--machine TEXT]

Writes, into DIR (default: the JSON file's folder), one PNG per part that
the file has numbers for:
  bench-chain.png     ns per callback against N, every *ns_per_callback_nN
                      series (ours, best run, Twisted, any other)
  bench-pool.png      jobs/s (burst, steady) and latency (p50, p99) of ours,
                      libuv and the floor at each thread count
  bench-dns.png       lookups/s against lookups in flight, every
                      *_lookups_per_s_in_flight_N series
  bench-blocking.png  the blocking workloads, % of their ideal
  bench-trace.png     ns per pool job with and without a trace running
The series are read from the metric names, so new keys of the same shape
are plotted without changes here. Each chart names the machine: the CPU of
/proc/cpuinfo and its core count unless --machine says otherwise.
"""
import argparse
import collections
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

IMPLS = {"": "deferred", "uv_": "libuv", "floor_": "floor"}
COLORS = {"deferred": "#2e86ab", "libuv": "#f18f01", "floor": "#8d99ae",
          "Twisted": "#c73e1d"}


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores" % (model, os.cpu_count() or 0)


def load(path):
    with open(path) as f:
        doc = json.load(f)
    metrics = collections.defaultdict(dict)
    text = {}
    for r in doc["results"]:
        if "value" in r and r.get("name") is not None and r["value"] is not None:
            metrics[r["bench"]][r["name"]] = r["value"]
        elif "text" in r:
            text[(r["bench"], r["name"])] = r["text"]
    return metrics, text


def footer(fig, where, text):
    mode = text.get(("run", "mode"), "?")
    build = text.get(("run", "build_type"), "?")
    fig.text(0.01, 0.01, "%s; %s build, %s run" % (where, build, mode),
             fontsize=7, color="#555")


def save(fig, out, name, where, text):
    footer(fig, where, text)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)


def chain(m, out, where, text):
    series = collections.defaultdict(dict)
    for k, v in m.items():
        g = re.fullmatch(r"(.*)ns_per_callback_n(\d+)", k)
        if g:
            prefix = g.group(1)
            label = {"": "deferred", "best_": "deferred (best run)",
                     "twisted_": "Twisted"}.get(prefix, prefix.rstrip("_"))
            series[label][int(g.group(2))] = v
    if not series:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, pts in sorted(series.items()):
        xs = sorted(pts)
        ax.plot(xs, [pts[x] for x in xs], marker="o", label=label,
                color=COLORS.get(label))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("callbacks per Deferred (N)")
    ax.set_ylabel("ns per callback (log)")
    ax.set_title("Callback chains: create, add N callbacks, fire, release")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    save(fig, out, "bench-chain.png", where, text)


def grouped(ax, groups, impls, values, ylabel, title):
    width = 0.8 / max(1, len(impls))
    for i, impl in enumerate(impls):
        xs = [g + (i - (len(impls) - 1) / 2) * width for g in range(len(groups))]
        ys = [values.get((impl, grp), 0) for grp in groups]
        ax.bar(xs, ys, width, label=impl, color=COLORS.get(impl))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)


def pool(m, out, where, text):
    rate, lat = {}, {}
    threads = set()
    for k, v in m.items():
        g = re.fullmatch(r"(uv_|floor_)?(burst|steady)_jobs_per_second_t(\d+)", k)
        if g:
            impl = IMPLS[g.group(1) or ""]
            rate[(impl, "%s, %s thr" % (g.group(2), g.group(3)))] = v / 1e6
            threads.add(int(g.group(3)))
        g = re.fullmatch(r"(uv_|floor_)?latency_(p50|p99)_t(\d+)", k)
        if g:
            impl = IMPLS[g.group(1) or ""]
            lat[(impl, "%s, %s thr" % (g.group(2), g.group(3)))] = v
    if not rate:
        return
    impls = [i for i in IMPLS.values() if any(k[0] == i for k in rate)]
    ts = sorted(threads)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    grouped(a, ["%s, %d thr" % (w, t) for w in ("burst", "steady") for t in ts],
            impls, rate, "million jobs per second",
            "No-op jobs: throughput (higher is better)")
    grouped(b, ["%s, %d thr" % (p, t) for p in ("p50", "p99") for t in ts],
            impls, lat, "microseconds",
            "One job at a time: round-trip latency (lower is better)")
    for ax in (a, b):
        ax.tick_params(axis="x", labelsize=8)
        ax.legend(fontsize=8)
    save(fig, out, "bench-pool.png", where, text)


def dns(m, out, where, text):
    series = collections.defaultdict(dict)
    for k, v in m.items():
        g = re.fullmatch(r"(.*)_lookups_per_s_in_flight_(\d+)", k)
        if g:
            label = {"cares": "c-ares through the reactor",
                     "getaddrinfo_pool": "getaddrinfo on a pool"}.get(
                         g.group(1), g.group(1))
            series[label][int(g.group(2))] = v
    if not series:
        return
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for label, pts in sorted(series.items()):
        xs = sorted(pts)
        ax.plot(xs, [pts[x] / 1000 for x in xs], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("lookups in flight")
    ax.set_ylabel("thousand lookups per second")
    ax.set_title("DNS lookups of one name against a local dnsmasq")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    save(fig, out, "bench-dns.png", where, text)


def blocking(m, out, where, text):
    values, groups = {}, []
    for k, v in sorted(m.items()):
        g = re.fullmatch(r"(uv_|floor_)?(wave_)?blocking_pct_of_ideal_t(\d+)", k)
        what = None
        if g:
            what = ("one wave, %s thr" if g.group(2) else "many jobs, %s thr") % g.group(3)
        else:
            g = re.fullmatch(r"(uv_|floor_)?(behind)_pct_of_ideal_t(\d+)", k)
            if g:
                what = "short behind long, %s thr" % g.group(3)
        if what is None:
            continue
        values[(IMPLS[g.group(1) or ""], what)] = v
        if what not in groups:
            groups.append(what)
    if not values:
        return
    impls = [i for i in IMPLS.values() if any(k[0] == i for k in values)]
    groups.sort(key=lambda s: (s.split(",")[0], int(re.search(r"(\d+) thr", s).group(1))))
    fig, ax = plt.subplots(figsize=(8, 4.2))
    grouped(ax, groups, impls, values, "% of the ideal",
            "Blocking jobs (sleeps): efficiency against the ideal schedule")
    ax.axhline(100, color="#333", lw=0.8, ls="--")
    ax.set_ylim(0, 125)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8, loc="upper right", ncol=3)
    save(fig, out, "bench-blocking.png", where, text)


def trace(m, out, where, text):
    values, groups = {}, []
    for k, v in m.items():
        g = re.fullmatch(r"(off|on)_ns_per_job_t(\d+)", k)
        if g:
            grp = "%s thr" % g.group(2)
            values[({"off": "no trace", "on": "trace running"}[g.group(1)], grp)] = v
            if grp not in groups:
                groups.append(grp)
    if not values:
        return
    groups.sort(key=lambda s: int(s.split()[0]))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    grouped(ax, groups, ["no trace", "trace running"], values, "ns per job",
            "Pool burst, no-op jobs: what a running trace costs")
    ax.legend()
    save(fig, out, "bench-trace.png", where, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json")
    ap.add_argument("--out")
    ap.add_argument("--machine")
    a = ap.parse_args()
    metrics, text = load(a.json)
    out = a.out or os.path.dirname(os.path.abspath(a.json))
    os.makedirs(out, exist_ok=True)
    where = a.machine or machine()
    chain(metrics.get("chain", {}), out, where, text)
    pool(metrics.get("pool", {}), out, where, text)
    dns(metrics.get("dns", {}), out, where, text)
    blocking(metrics.get("pool", {}), out, where, text)
    trace(metrics.get("trace", {}), out, where, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
