// The parked threads. Each loop retries after counting, so a tracer that makes a blocking
// call fail shows up in the counters instead of changing what the thread is doing.
#include "park_functions.h"

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "target_markers.h"
#include "thread_registry.h"

using sdtarget::ThreadSlot;

namespace {

ThreadSlot& slot_of(void* argument) { return *static_cast<ThreadSlot*>(argument); }

// After a surprising success (data on a pipe nobody writes, EOF, ...) the call would return
// at once again; a short pause keeps that from turning into a busy loop.
void back_off() {
  timespec pause{0, 1'000'000};
  nanosleep(&pause, nullptr);
}

}  // namespace

extern "C" {

__attribute__((noinline, used)) void* park_in_nanosleep(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  // A local that points at the heap secret: volatile keeps it in this frame's stack memory.
  char* volatile secret = sdtarget::secret_buffer();
  (void)secret;
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    timespec request{1, 0};
    if (nanosleep(&request, nullptr) != 0) sdtarget::count_result(slot, errno);
  }
  return nullptr;
}

__attribute__((noinline, used)) void* park_in_pipe_read(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    char byte;
    ssize_t n = read(slot.wait_fd, &byte, 1);
    if (n < 0) {
      sdtarget::count_result(slot, errno);
    } else {
      sdtarget::count_result(slot, 0);
      back_off();
    }
  }
  return nullptr;
}

__attribute__((noinline, used)) void* park_in_futex_wait(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    long rc = syscall(SYS_futex, &slot.futex_word, FUTEX_WAIT_PRIVATE, 0u, nullptr, nullptr, 0);
    // Nobody ever wakes this word, so any return at all is unexpected.
    sdtarget::count_result(slot, rc < 0 ? errno : 0);
    if (rc >= 0 || errno == EAGAIN) back_off();
  }
  return nullptr;
}

__attribute__((noinline, used)) void* park_in_epoll_wait(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    epoll_event event{};
    int n = epoll_wait(slot.wait_fd, &event, 1, -1);
    if (n < 0) {
      sdtarget::count_result(slot, errno);
    } else {
      sdtarget::count_result(slot, 0);
      back_off();
    }
  }
  return nullptr;
}

__attribute__((noinline, used)) void* park_in_accept(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    int connection = accept(slot.wait_fd, nullptr, nullptr);
    if (connection < 0) {
      sdtarget::count_result(slot, errno);
    } else {
      // Someone connected to a port nobody was told about; drop it and keep waiting.
      close(connection);
      sdtarget::count_result(slot, 0);
    }
  }
  return nullptr;
}

__attribute__((noinline, used)) void* spin_in_user_space(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  volatile std::uint64_t counter = 0;
  for (;;) counter = counter + 1;
  return nullptr;
}

__attribute__((noinline, used)) void* spin_for_load(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  volatile std::uint64_t counter = 0;
  for (;;) counter = counter + 1;
  return nullptr;
}

__attribute__((noinline, used)) void* park_idle(void* argument) {
  ThreadSlot& slot = slot_of(argument);
  sdtarget::announce_thread(slot);
  slot.parked.store(1);
  for (;;) {
    timespec request{1, 0};
    if (nanosleep(&request, nullptr) != 0) sdtarget::count_result(slot, errno);
  }
  return nullptr;
}

}  // extern "C"
