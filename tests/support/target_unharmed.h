// Assertions that a capture left the test target as it found it: no child of it (so no zombie
// to reap) and no SIGCHLD waiting. The test target blocks SIGCHLD, so one sent to it would show
// as pending.
#pragma once

#include <gtest/gtest.h>

#include "support/target_process.h"

namespace snapdump::testing {

inline void expect_no_child_and_no_sigchld(TargetProcess& target) {
  auto children = target.command("children");
  EXPECT_TRUE(children["children"].empty()) << children.dump();
  auto pending = target.command("pending-signals");
  EXPECT_TRUE(pending["pending"].empty()) << pending.dump();
}

}  // namespace snapdump::testing
