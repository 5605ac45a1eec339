#!/usr/bin/env python3
"""Fails when a test name or a comment cites a rule id (S01, R5.7, C3, ...)
that docs/semantics.md does not define.

usage: check_rule_ids.py SEMANTICS_MD DIR_OR_FILE... [--list]

A rule is defined by a line (or a heading) starting with its id in bold:
**S26**, **R5.7**, ### **R5**.
A test name cites ids as lower-case tokens: test_s26_r5_7_... cites S26 and
R5.7 (r<section>_<item>), and r8_... alone the section R8. Comments cite them
as written: S26, R5.7, R8. --list prints each cited id with the tests citing
it, instead of checking.
"""
import os
import re
import sys

DEFINED = re.compile(r"^(?:#+\s*|[-*]\s*)?\*\*((?:S\d\d|R\d+(?:\.\d+)?|C\d))\*\*",
                     re.M)
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*|^\s*#[^\n]*", re.S | re.M)
IN_TEXT = re.compile(r"(?<![A-Za-z0-9_.])(S\d\d|R\d{1,2}(?:\.\d{1,2})?|C[1-6])"
                     r"(?![A-Za-z0-9_]|\.\d)")
TEST_NAME = re.compile(r"\btest_([a-z0-9_]+)|\{\s*\"([a-z0-9_]+)\"\s*,")


def ids_in_name(name):
    tokens = name.split("_")
    found, i = [], 0
    while i < len(tokens):
        t = tokens[i]
        if re.fullmatch(r"s\d\d", t):
            found.append(t.upper())
        elif re.fullmatch(r"c[1-6]", t):
            found.append(t.upper())
        elif re.fullmatch(r"r\d{1,2}", t):
            if i + 1 < len(tokens) and re.fullmatch(r"\d{1,2}", tokens[i + 1]):
                found.append("R%s.%s" % (t[1:], tokens[i + 1]))
                i += 1
            else:
                found.append(t.upper())
        i += 1
    return found


def sources(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs[:] = sorted(d for d in dirs if not d.startswith("build"))
            for f in sorted(files):
                if f.endswith((".c", ".h", ".cmake", ".py", ".sh")) or \
                        f == "CMakeLists.txt":
                    yield os.path.join(root, f)


def citations(path):
    """(id, where) pairs: where is a test name or path:line."""
    text = open(path, encoding="utf-8", errors="replace").read()
    for m in COMMENT.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for rid in IN_TEXT.findall(m.group(0)):
            yield rid, "%s:%d" % (path, line)
    for m in TEST_NAME.finditer(text):
        name = m.group(1) or m.group(2)
        for rid in ids_in_name(name):
            yield rid, name


def main(argv):
    listing = "--list" in argv
    args = [a for a in argv[1:] if a != "--list"]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    defined = set(DEFINED.findall(open(args[0], encoding="utf-8").read()))
    cited = {}
    for path in sources(args[1:]):
        if os.path.basename(path) == os.path.basename(__file__):
            continue
        for rid, where in citations(path):
            cited.setdefault(rid, set()).add(where)
    if listing:
        for rid in sorted(cited, key=lambda r: (r[0], [int(x) for x in
                                                      re.findall(r"\d+", r)])):
            tests = sorted(w for w in cited[rid] if ":" not in w)
            print(rid, " ".join(tests))
        return 0
    missing = sorted(set(cited) - defined)
    for rid in missing:
        print("%s is cited but not defined in %s: %s" %
              (rid, args[0], ", ".join(sorted(cited[rid])[:5])))
    if not defined:
        print("no rule is defined in %s" % args[0])
        return 1
    print("%d rule ids cited, %d defined, %d missing" %
          (len(cited), len(defined), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
