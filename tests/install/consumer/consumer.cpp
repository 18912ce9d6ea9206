// A program outside the snapdump tree, built against an installed snapdump: it captures a
// child of its own, writes a minidump of it and reads the dump back.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer DUMP\n");
    return 2;
  }
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  int status = 0;
  try {
    snapdump::Snapshot snap = snapdump::Snapshot::capture(child, snapdump::capture_flags_for(snapdump::dump::kNormal));
    snapdump::write_minidump(snap, argv[1]);
    snapdump::reader::Minidump dump = snapdump::reader::Minidump::open(argv[1]);
    std::printf("pid=%d threads=%zu modules=%zu problems=%zu\n", static_cast<int>(child), dump.threads().size(),
                dump.modules().size(), dump.problems().size());
  } catch (const snapdump::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    status = 1;
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  return status;
}
