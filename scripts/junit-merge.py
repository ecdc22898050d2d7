#!/usr/bin/python3
"""junit-merge.py - merge the JUnit XML files of a matrix's shards into one report.

usage: scripts/junit-merge.py [-o OUT.xml] [--list CELLS.jsonl] IN.xml [IN.xml ...]

Each shard of a matrix (`qlua m.lua --shard I/N --junit out-I.xml`, on any machine) writes
one <testsuites> holding one <testsuite> named after the matrix.  The merge gives one
<testsuite> per matrix name with the testcases of every input, in the order of the inputs,
and recomputes the counts (tests, failures, errors, skipped) and times of each suite and
of the whole.  Testcases keep everything qlua wrote in them (<failure>, <error> with its
type: fail, timeout, crash or error; <skipped>; the logs in <system-out>/<system-err>).

--list CELLS.jsonl: the matrix's `qlua m.lua --list` output (with the same --only, without
--shard); every cell it names must be in the merged report, so a shard that never wrote its
file (a lost machine, a cancelled job) is an error instead of a smaller green report.

Errors (exit 1, nothing written): an input that is not JUnit XML, a testcase found twice
(the inputs are not one --shard I/N series of one matrix, or a shard ran twice), a cell of
--list missing.  Exit 2: usage.  Otherwise exit 0, whatever the cells' outcomes: the merged
report says those (and qlua's own exit status said it per shard).

Debian's python3-junitparser; /usr/bin/python3 explicitly, since a python3 earlier on PATH
(pyenv, a venv) may not see Debian's packages.
"""
import argparse
import json
import sys

from junitparser import JUnitXml, TestSuite


def fail(msg):
    print("junit-merge: " + msg, file=sys.stderr)
    sys.exit(1)


def suites_of(path):
    try:
        xml = JUnitXml.fromfile(path)
    except Exception as e:  # OSError, XML parse errors, "Invalid format."
        fail("%s: %s" % (path, e))
    # a file may hold <testsuites> (qlua's) or a lone <testsuite>
    return [xml] if isinstance(xml, TestSuite) else list(xml)


def main():
    ap = argparse.ArgumentParser(prog="junit-merge.py",
                                 description="merge the JUnit XML files of a matrix's shards")
    ap.add_argument("-o", "--output", default="-", help="merged report (default: standard output)")
    ap.add_argument("--list", metavar="CELLS.jsonl",
                    help="`qlua m.lua --list` output: every cell must be in the report")
    ap.add_argument("inputs", nargs="+", metavar="IN.xml")
    args = ap.parse_args()

    merged, order = {}, []          # suite name -> TestSuite, in order of first appearance
    seen = {}                       # (suite, classname, name) -> the file it came from
    cells_seen = set()              # (suite, name): what --list is checked against
    for path in args.inputs:
        for suite in suites_of(path):
            name = suite.name or ""
            if name not in merged:
                merged[name] = TestSuite(name)
                order.append(name)
            for case in suite:
                key = (name, case.classname, case.name)
                if key in seen:
                    fail("testcase '%s' of '%s' is in %s and in %s (shards of different "
                         "--shard I/N series, or one shard twice?)" % (case.name, name, seen[key], path))
                seen[key] = path
                cells_seen.add((name, case.name))
                merged[name].add_testcase(case)

    if args.list:
        try:
            with open(args.list, encoding="utf-8") as f:
                cells = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            fail("%s: %s" % (args.list, e))
        missing = [c["name"] for c in cells if (c.get("matrix", ""), c["name"]) not in cells_seen]
        if missing:
            fail("%d cell(s) of %s have no testcase: %s" % (len(missing), args.list, ", ".join(missing)))

    out = JUnitXml()
    for name in order:
        merged[name].update_statistics()
        out.add_testsuite(merged[name])
    out.update_statistics()
    if args.output == "-":
        out.write(sys.stdout.buffer if hasattr(sys.stdout, "buffer") else sys.stdout)
    else:
        out.write(args.output)
    print("junit-merge: %d file(s): %d tests, %d failures, %d errors, %d skipped"
          % (len(args.inputs), out.tests, out.failures, out.errors, out.skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
