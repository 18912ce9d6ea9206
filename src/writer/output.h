// The destinations of a dump behind snapdump::DumpOutput (include/snapdump/dump_output.h): a
// file that is not yet whole (PendingFile), a stream, or a caller's seekable descriptor.
#pragma once

#include <memory>
#include <string>

#include <fmt/format.h>

#include "snapdump/dump_output.h"
#include "snapdump/error.h"
#include "writer/sink.h"

namespace snapdump::writer {

// A new or regular file's dump before it is whole: an anonymous file (O_TMPFILE) in the
// directory that will hold it or, where the file system makes none, a temporary name beside
// the final one. commit() puts it in place; anything else leaves no trace of it.
class PendingFile {
 public:
  // `dir_fd` (taken) is the directory, `dir_path` its path as messages and temporary_path()
  // spell it, `name` the final name in it, `subject` how messages name the destination.
  PendingFile(int dir_fd, std::string dir_path, std::string name, bool replace, std::string subject);
  ~PendingFile() { discard(); }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  int fd() const { return fd_; }
  bool anonymous() const { return anonymous_; }
  // The temporary name's path, or "" if this file never has one (see DumpOutput).
  const std::string& temporary_path() const { return temp_path_; }
  const std::string& subject() const { return subject_; }
  // The same file opened again with O_DIRECT, or -1 where its file system takes no direct
  // writes aligned to a page.
  int open_direct() const;
  // Syncs the file and gives it its final name: never over a file that appeared meanwhile
  // (already_exists), atomically over the old one when replacing. Throws on failure.
  void commit();
  // Closes and removes the file if it was not committed.
  void discard() noexcept;

 private:
  void create_named();
  std::string unique_temporary_name(int attempt) const;
  int dir_fd_;
  std::string dir_path_, name_, subject_;
  std::string temp_name_, temp_path_;
  int fd_ = -1;
  bool anonymous_ = false, replace_, committed_ = false;
};

}  // namespace snapdump::writer

namespace snapdump {

struct DumpOutput::Impl {
  Kind kind = Kind::new_file;
  std::string name, final_path;
  std::unique_ptr<writer::PendingFile> file;  // new_file, replaced_file
  int fd = -1;                                // stream, caller_file
  bool owns_fd = false;
  bool used = false;  // a DumpOutput takes one dump
  ~Impl();
  // The sink for this output's one dump.
  std::unique_ptr<writer::Sink> open_sink();
  // After a failed dump: the file is removed now, not when the output is destroyed.
  void discard() noexcept;
  // Runs a writer given (forward_only, the sink opener) for this output's one dump: an output
  // that already took one is refused, and a failure discards the file at once.
  template <class Write>
  auto write_once(Write&& write) {
    if (used) throw Error(Errc::invalid_argument, fmt::format("{} has already taken a dump", name));
    try {
      return write(kind == Kind::stream, [this] { return open_sink(); });
    } catch (...) {
      used = true;
      discard();
      throw;
    }
  }
};

}  // namespace snapdump
