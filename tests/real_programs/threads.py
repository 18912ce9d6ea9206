# A program whose runtime nobody here wrote, for snapdump's real-program tests
# (tests/real_programs/real_programs_test.cpp): Debian's CPython with threads blocked in
# different system calls and a heap holding a marker string. Run: /usr/bin/python3 threads.py MARKER
#
# The protocol is snapdump_target's (tests/support/target_process.h), so TargetProcess drives it:
#   stdout  one JSON line when every thread is blocked where it should be:
#           {"ready": true, "pid", "runtime", "blocked": [names], "markers": {text: copies}}
#           then one JSON answer per command, nothing else.
#   stdin   "reset"      forget the longest heartbeat gap so far     -> {"reset": true}
#           "heartbeat"  the heartbeat thread's count and longest gap -> {"beats", "max_stall_ns"}
#           "poke"       wake every blocked thread through its own blocking call; each answers and
#                        blocks again                                 -> {"alive": [names]}
#           "exit" or end of input: exit 0.
import ctypes
import json
import os
import queue
import select
import socket
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_NAME = 15
HEARTBEAT_PERIOD_NS = 1_000_000


def name_this_thread(name):
    # CPython 3.11 gives its threads no OS names; the dump's thread names and LLDB show these.
    libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0)


class Heartbeat:
    """A thread that ticks every millisecond and keeps its longest gap: a stop of the process,
    as felt from inside (CLOCK_MONOTONIC, so a stop counts even though no tick ran in it)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.beats = 0
        self.max_gap = 0
        self.last = time.monotonic_ns()

    def run(self):
        name_this_thread("sd-heartbeat")
        while True:
            time.sleep(HEARTBEAT_PERIOD_NS / 1e9)
            now = time.monotonic_ns()
            with self.lock:
                self.max_gap = max(self.max_gap, now - self.last)
                self.last = now
                self.beats += 1

    def reset(self):
        with self.lock:
            self.max_gap = 0
            self.last = time.monotonic_ns()

    def report(self):
        with self.lock:
            return {"beats": self.beats, "max_stall_ns": self.max_gap}


heartbeat = Heartbeat()
answers = queue.Queue()  # names of poked threads that answered
wakeups = queue.Queue()
recv_side, send_side = socket.socketpair()
select_read, select_write = os.pipe()
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(8)
poke_generation = 0
poke_condition = threading.Condition()
BLOCKED = ["sd-sleep", "sd-queue", "sd-accept", "sd-recv", "sd-select", "sd-condition"]
ready = threading.Barrier(len(BLOCKED) + 1)


def blocked_thread(name, wait):
    def body():
        name_this_thread(name)
        ready.wait()
        while True:
            wait()
            answers.put(name)
    threading.Thread(target=body, name=name, daemon=True).start()


def sleep_until_poked():
    seen = poke_generation
    while poke_generation == seen:
        time.sleep(0.05)  # clock_nanosleep


def accept_one():
    conn, _ = server.accept()  # accept4
    with conn:
        conn.recv(8)


def select_one():
    select.select([select_read], [], [])  # select
    os.read(select_read, 8)


def wait_condition():
    with poke_condition:
        seen = poke_generation
        poke_condition.wait_for(lambda: poke_generation != seen)  # futex wait, no timeout


def poke():
    global poke_generation
    with poke_condition:
        poke_generation += 1
        poke_condition.notify_all()
    wakeups.put(1)
    with socket.create_connection(server.getsockname()) as c:
        c.sendall(b"x")
    send_side.sendall(b"x")
    os.write(select_write, b"x")
    alive = set()
    deadline = time.monotonic() + 5
    while len(alive) < len(BLOCKED) and time.monotonic() < deadline:
        try:
            alive.add(answers.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
    return {"alive": sorted(alive)}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: threads.py MARKER")
    # The marker under a prefix the command line does not hold, built at run time: finding it in
    # a dump proves the heap was dumped, not the argument strings. 40000 bytes objects of 576
    # bytes (pymalloc's limit is 512, so these are malloc's: the brk heap), about 23 MiB.
    heap_marker = ("snapdump-py-heap<" + sys.argv[1] + ">").encode()
    copies = 40000
    ballast = [heap_marker + i.to_bytes(8, "little") * 68 for i in range(copies)]

    threading.Thread(target=heartbeat.run, daemon=True).start()
    blocked_thread("sd-sleep", sleep_until_poked)
    blocked_thread("sd-queue", wakeups.get)  # a lock acquire: futex wait in sem_clockwait
    blocked_thread("sd-accept", accept_one)
    blocked_thread("sd-recv", lambda: recv_side.recv(8))  # recvfrom
    blocked_thread("sd-select", select_one)
    blocked_thread("sd-condition", wait_condition)
    ready.wait()
    time.sleep(0.05)  # let the threads reach their blocking calls
    name_this_thread("sd-commands")  # the main thread, blocked in read(2) between commands
    print(json.dumps({"ready": True, "pid": os.getpid(), "runtime": "python " + sys.version.split()[0],
                      "blocked": BLOCKED,
                      "markers": {heap_marker.decode(): len(ballast)}}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "reset":
            heartbeat.reset()
            answer = {"reset": True}
        elif command == "heartbeat":
            answer = heartbeat.report()
        elif command == "poke":
            answer = poke()
        elif command == "exit":
            break
        else:
            answer = {"error": "unknown command " + command}
        print(json.dumps(answer), flush=True)
    os._exit(0)


main()
