#include "support/foreign_tracer.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace snapdump::testing {

ForeignTracer::ForeignTracer(pid_t target) {
  int ready[2];
  if (pipe(ready) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ == 0) {
    bool ok = ptrace(PTRACE_SEIZE, target, nullptr, nullptr) == 0;
    (void)!write(ready[1], ok ? "1" : "0", 1);
    pause();
    _exit(0);
  }
  char c = 0;
  bool got = read(ready[0], &c, 1) == 1;
  close(ready[0]);
  close(ready[1]);
  if (!got || c != '1') {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    throw std::runtime_error("the foreign tracer could not seize process " + std::to_string(target));
  }
}

ForeignTracer::~ForeignTracer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace snapdump::testing
