#include "target_churn.h"

#include <pthread.h>
#include <time.h>

#include <thread>

namespace sdtarget {
namespace {

void child() {
  pthread_setname_np(pthread_self(), "sd-churn-child");
  // Long enough to be caught sometimes, short enough to exit during a capture other times.
  timespec ts{0, 300'000};
  nanosleep(&ts, nullptr);
}

void churn_loop() {
  pthread_setname_np(pthread_self(), "sd-churn");
  for (;;) {
    std::thread t(child);
    t.join();
    timespec pause{0, 100'000};
    nanosleep(&pause, nullptr);
  }
}

}  // namespace

void start_churn() { std::thread(churn_loop).detach(); }

}  // namespace sdtarget
