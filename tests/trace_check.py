#!/usr/bin/env python3
"""Checks a trace file written by df_trace_stop() (deferred/trace.h).

Exits 0 when every check passes; otherwise prints each failed check and
exits 1. The file must parse with the json module; the rest is what the
options ask for:

  --jobs N          N jobs, each with its submit (reactor), run (a worker)
                    and callbacks (reactor) slices, in that order in time,
                    and both flow arrows (queue, result)
  --max-workers N   the jobs ran on at most N distinct worker tracks
  --dns N           N DNS lookups, each an async span begun and ended
  --events N        N ring events in the file (slices; a lookup counts two)
  --dropped N       otherData.dropped_events is N
  --recorded N      otherData.recorded_events is N
  --rounds          at least one reactor round, its phases inside it
"""
import argparse
import collections
import json
import sys

failures = []


def check(ok, message):
    if not ok:
        failures.append(message)
    return ok


def encloses(slice_, ts):
    return slice_["ts"] <= ts <= slice_["ts"] + slice_["dur"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--jobs", type=int)
    ap.add_argument("--max-workers", type=int)
    ap.add_argument("--dns", type=int)
    ap.add_argument("--events", type=int)
    ap.add_argument("--dropped", type=int)
    ap.add_argument("--recorded", type=int)
    ap.add_argument("--rounds", action="store_true")
    a = ap.parse_args()

    with open(a.file) as f:
        doc = json.load(f)  # raises on a file that is not JSON
    events = doc["traceEvents"]
    other = doc["otherData"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    reactors = [t for t, n in names.items() if n == "reactor"]
    check(len(reactors) == 1, "one reactor track, got %r" % names)
    reactor = reactors[0] if reactors else None
    slices = [e for e in events if e["ph"] == "X"]
    by_tid = collections.defaultdict(list)
    for s in slices:
        check(s["tid"] in names, "slice %s on a track with no name" % s["name"])
        check(s["dur"] >= 0, "negative duration: %s" % s["name"])
        by_tid[s["tid"]].append(s)

    # Jobs: three slices and two arrows each.
    jobs = collections.defaultdict(dict)
    for s in slices:
        if s["cat"] == "job":
            kind = s["name"].split(" job ")[0] if " job " in s["name"] else "run"
            jobs[s["args"]["job"]][kind] = s
    complete = 0
    workers = set()
    for job, parts in jobs.items():
        if not check(set(parts) == {"submit", "run", "callbacks"},
                     "job %d has %s" % (job, sorted(parts))):
            continue
        complete += 1
        sub, run, cb = parts["submit"], parts["run"], parts["callbacks"]
        check(sub["tid"] == reactor, "job %d submitted off the reactor" % job)
        check(cb["tid"] == reactor, "job %d callbacks off the reactor" % job)
        check(names.get(run["tid"], "").startswith("worker "),
              "job %d ran on %r, not a worker" % (job, names.get(run["tid"])))
        check(names.get(run["tid"]) == "worker %d" % run["args"]["worker"],
              "job %d: its worker number names another track" % job)
        workers.add(run["tid"])
        check(sub["ts"] <= run["ts"] <= run["ts"] + run["dur"] <= cb["ts"],
              "job %d: submit %.3f, run %.3f+%.3f, callbacks %.3f out of order"
              % (job, sub["ts"], run["ts"], run["dur"], cb["ts"]))

    # Flows: each start has one finish of the same id, bound inside slices.
    flows = collections.defaultdict(list)
    for e in events:
        if e["ph"] in ("s", "f"):
            flows[(e["cat"], e["name"], e["id"])].append(e)
    for key, ends in flows.items():
        phs = sorted(e["ph"] for e in ends)
        if not check(phs == ["f", "s"], "flow %r has %r" % (key, phs)):
            continue
        s = next(e for e in ends if e["ph"] == "s")
        f = next(e for e in ends if e["ph"] == "f")
        check(f.get("bp") == "e", "flow %r: finish not bound to its slice" % (key,))
        check(s["ts"] <= f["ts"], "flow %r goes back in time" % (key,))
        for end in (s, f):
            check(any(encloses(x, end["ts"]) for x in by_tid[end["tid"]]),
                  "flow %r: a point outside any slice of its track" % (key,))
    if a.jobs is not None:
        check(complete == a.jobs, "%d complete jobs, expected %d" % (complete, a.jobs))
        queue = sum(1 for k in flows if k[1] == "queue")
        result = sum(1 for k in flows if k[1] == "result")
        check(queue == a.jobs and result == a.jobs,
              "%d queue and %d result arrows for %d jobs" % (queue, result, a.jobs))
    if a.max_workers is not None:
        check(0 < len(workers) <= a.max_workers,
              "%d worker tracks, at most %d threads" % (len(workers), a.max_workers))

    # DNS lookups: async spans, begun and ended.
    begun = {e["id"]: e for e in events if e["ph"] == "b" and e["cat"] == "dns"}
    ended = {e["id"]: e for e in events if e["ph"] == "e" and e["cat"] == "dns"}
    check(set(begun) == set(ended), "dns spans without their other end")
    for span, b in begun.items():
        if span in ended:
            check(b["ts"] <= ended[span]["ts"], "dns span %s ends first" % span)
    if a.dns is not None:
        check(len(begun) == a.dns, "%d dns lookups, expected %d" % (len(begun), a.dns))

    if a.rounds:
        rounds = [s for s in slices if s["name"] == "round"]
        check(len(rounds) > 0, "no reactor round")
        for s in slices:
            if s["cat"] == "reactor" and s["name"] != "round":
                check(any(encloses(r, s["ts"]) and encloses(r, s["ts"] + s["dur"])
                          for r in rounds), "phase %s outside a round" % s["name"])

    ring = len(slices) + len(begun) + len(ended)
    check(other["recorded_events"] - other["dropped_events"] == ring,
          "recorded %d - dropped %d != %d events in the file"
          % (other["recorded_events"], other["dropped_events"], ring))
    if a.events is not None:
        check(ring == a.events, "%d events, expected %d" % (ring, a.events))
    if a.dropped is not None:
        check(other["dropped_events"] == a.dropped,
              "dropped %d, expected %d" % (other["dropped_events"], a.dropped))
    if a.recorded is not None:
        check(other["recorded_events"] == a.recorded,
              "recorded %d, expected %d" % (other["recorded_events"], a.recorded))

    for m in failures[:20]:
        print("trace_check: " + m)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
