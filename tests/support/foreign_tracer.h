// Another tracer: a forked process that ptrace-seizes a target and holds it, so tests can check
// that snapdump names it instead of fighting it.
#pragma once

#include <sys/types.h>

namespace snapdump::testing {

class ForeignTracer {
 public:
  // Forks the tracer and waits until it holds `target`; throws std::runtime_error if the seize
  // failed.
  explicit ForeignTracer(pid_t target);
  // Kills and reaps the tracer, which releases the target.
  ~ForeignTracer();
  ForeignTracer(const ForeignTracer&) = delete;
  ForeignTracer& operator=(const ForeignTracer&) = delete;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace snapdump::testing
