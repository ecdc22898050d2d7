#!/usr/bin/python3
"""bench/qga_floor.py ARGS.json - the floor of bench/agent.sh's boot row:
the QEMU command line qlua would run, started by hand and polled with a bare
guest-agent ping.

ARGS.json is what `./qlua --json bench/agent.lua boot` prints: the argv and
the descriptors QEMU inherits (QMP on 3, the console on 4, the agent's
chardev on 5).  This program makes a socketpair for each, starts QEMU with
the child ends at those numbers, drains the QMP and console ends (as qlua
reads them; a full socket would stall the guest's serial port), and on the
agent's end sends guest-sync-delimited every 0.1 s until the agent answers
one, then guest-ping until that answers.  Then it kills QEMU (SIGKILL) and
waits for it, as `qlua bench/agent.lua boot` does.  Exit status 0 when the
agent answered within the timeout (120 s, $QGA_FLOOR_TIMEOUT).

Replies are read with the json module: the agent's answer to
guest-sync-delimited starts with a 0xFF byte (what came before it is stale),
each reply ends with a newline.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

RETRY = 0.1


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    argv = spec["argv"]
    if os.environ.get("QLUA_QEMU"):
        argv[0] = os.environ["QLUA_QEMU"]
    timeout = float(os.environ.get("QGA_FLOOR_TIMEOUT", "120"))
    roles = {d["fd"]: d["what"] for d in spec["fds"]}
    agent_fd = next(fd for fd, what in roles.items() if "agent" in what)

    ours, theirs = {}, {}
    for fd in roles:
        a, b = socket.socketpair()
        ours[fd], theirs[fd] = a, b

    def place():
        # in the child, before subprocess closes all but pass_fds: each end
        # at its number, moved high first so that placing one never
        # overwrites another
        high = {fd: os.dup2(s.fileno(), 200 + i) for i, (fd, s) in enumerate(theirs.items())}
        for fd, h in high.items():
            os.dup2(h, fd)

    qemu = subprocess.Popen(argv, preexec_fn=place, pass_fds=sorted(roles), stdin=subprocess.DEVNULL)
    for s in theirs.values():
        s.close()
    agent = ours[agent_fd]
    console_fd = next((fd for fd, what in roles.items() if "console" in what), None)
    names = {s: roles[fd] for fd, s in ours.items()}
    console = b""
    drains = [s for fd, s in ours.items() if fd != agent_fd]

    deadline = time.monotonic() + timeout
    buf, next_id, sent_ids, synced = b"", 1000, set(), False
    last_try = 0.0
    ok = False
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if not synced and now - last_try >= RETRY:
                agent.sendall(json.dumps({"execute": "guest-sync-delimited",
                                          "arguments": {"id": next_id}}).encode() + b"\n")
                sent_ids.add(next_id)
                next_id += 1
                last_try = now
            wait = RETRY - (time.monotonic() - last_try) if not synced else deadline - time.monotonic()
            ready, _, _ = select.select([agent] + drains, [], [], max(0.0, wait))
            for s in ready:
                data = s.recv(65536)
                if not data:
                    status = qemu.wait(timeout=10)
                    raise SystemExit("qga_floor: QEMU closed its %s (exit status %s); the console's end:\n%s"
                                     % (names[s], status, console[-2000:].decode(errors="replace")))
                if s is agent:
                    buf += data
                elif s is ours.get(console_fd):
                    console = (console + data)[-4096:]
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if b"\xff" in line:
                    line = line[line.rindex(b"\xff") + 1:]
                line = line.strip()
                if not line:
                    continue
                msg = json.loads(line)
                if not synced and msg.get("return") in sent_ids:
                    synced = True
                    agent.sendall(b'{"execute": "guest-ping"}\n')
                elif synced and msg.get("return") == {}:
                    ok = True
                    break
            if ok:
                break
    finally:
        qemu.send_signal(signal.SIGKILL)
        qemu.wait()
    if not ok:
        raise SystemExit("qga_floor: the agent did not answer within %g s" % timeout)


if __name__ == "__main__":
    main()
