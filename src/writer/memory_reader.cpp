#include "writer/memory_reader.h"

#include <signal.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace snapdump::writer {

size_t MemoryReader::read_once(uint64_t address, std::span<uint8_t> out, int& error) {
  size_t done = 0;
  error = 0;
  if (vm_) {
    VmReadAnswer pre = steering_->vm_pre_read(address, out);
    done = std::min(pre.completed, out.size());
    error = pre.error;
  }
  if (error == 0 && done < out.size()) {
    done += snapshot_.read_memory(address + done, out.subspan(done));
    if (done < out.size()) error = EFAULT;
  }
  if (vm_) {
    VmReadAnswer post = steering_->vm_post_read(address, out, done, error);
    done = std::min(post.completed, out.size());
    error = post.error;
    if (error == 0 && done < out.size()) error = EFAULT;
  }
  return done;
}

size_t MemoryReader::read(uint64_t address, std::span<uint8_t> out, ReadPurpose purpose) {
  int error = 0;
  size_t done = read_once(address, out, error);
  if (done == out.size() || purpose == ReadPurpose::inspect) return done;
  // A live target that has exited takes its memory with it: say so rather than "unreadable".
  if (snapshot_.memory_mode() == MemoryMode::auxiliary_pages && kill(snapshot_.pid(), 0) != 0 && errno == ESRCH) {
    throw Error(Errc::process_exited,
                fmt::format("process {} exited while its dump was written (no VA clone holds its memory)",
                            snapshot_.pid()));
  }
  uint64_t at = address + done;
  uint64_t missing = out.size() - done;
  if (purpose == ReadPurpose::stack) {
    throw Error(Errc::memory_unreadable, fmt::format("cannot read stack memory at {:#x} ({} bytes): {}", at, missing,
                                            std::strerror(error)), error);
  }
  if (options_.type & dump::kIgnoreInaccessibleMemory) return done;
  if (steering_->read_memory_failure(at, missing, error)) return done;
  throw Error(Errc::memory_unreadable,
              fmt::format("cannot read memory at {:#x} ({} bytes): {}; MiniDumpIgnoreInaccessibleMemory or a "
                          "ReadMemoryFailure callback answering TRUE leaves such bytes out",
                          at, missing, std::strerror(error)),
              error);
}

}  // namespace snapdump::writer
