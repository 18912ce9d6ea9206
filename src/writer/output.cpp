// DumpOutput: the destination object, to_fd's rules for a caller's descriptor, and the sink each
// kind of destination gets.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "writer/file_error.h"
#include "writer/output.h"

namespace snapdump {

DumpOutput::DumpOutput(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DumpOutput::DumpOutput(DumpOutput&&) noexcept = default;
DumpOutput& DumpOutput::operator=(DumpOutput&&) noexcept = default;
DumpOutput::~DumpOutput() = default;

DumpOutput::Kind DumpOutput::kind() const noexcept { return impl_->kind; }
const std::string& DumpOutput::name() const noexcept { return impl_->name; }
const std::string& DumpOutput::final_path() const noexcept { return impl_->final_path; }

const char* DumpOutput::temporary_name() const noexcept {
  return impl_->file ? impl_->file->temporary_path().c_str() : "";
}

DumpOutput::Impl::~Impl() {
  discard();
  if (owns_fd && fd >= 0) close(fd);
}

void DumpOutput::Impl::discard() noexcept {
  if (file) file->discard();
}

std::unique_ptr<writer::Sink> DumpOutput::Impl::open_sink() {
  if (used) throw Error(Errc::invalid_argument, fmt::format("{} has already taken a dump", name));
  used = true;
  switch (kind) {
    case Kind::new_file:
    case Kind::replaced_file: return std::make_unique<writer::FileSink>(*file);
    case Kind::stream: return std::make_unique<writer::StreamSink>(fd, name);
    case Kind::caller_file: return std::make_unique<writer::FdSink>(fd, name);
  }
  throw Error(Errc::internal, "unknown output kind");
}

DumpOutput DumpOutput::to_fd(int fd, const std::string& name) {
  auto impl = std::make_unique<Impl>();
  impl->name = name.empty() ? fmt::format("fd {}", fd) : name;
  impl->final_path = impl->name;
  impl->fd = fd;
  const std::string& who = impl->name;
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    throw Error(Errc::invalid_argument, fmt::format("{} is not an open file", who), fd < 0 ? EBADF : errno);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY) {
    throw Error(Errc::invalid_argument, fmt::format("{} is open for reading only", who), EBADF);
  }
  if (isatty(fd)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is a terminal: a minidump is binary; redirect it to a file or pipe it on "
                            "(e.g. | zstd > dump.dmp.zst)",
                            who));
  }
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode)) {
    impl->kind = Kind::stream;
    return DumpOutput(std::move(impl));
  }
  if (S_ISDIR(st.st_mode)) throw Error(Errc::invalid_argument, fmt::format("{} is a directory", who), EISDIR);
  if (lseek(fd, 0, SEEK_CUR) < 0) {
    // Not a pipe, socket or device, yet not seekable: nothing snapdump knows how to write.
    writer::throw_file_error(fmt::format("{} cannot take a dump", who), errno);
  }
  if (flags >= 0 && (flags & O_APPEND)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is open with O_APPEND (>> in a shell): Linux would append every write, and a "
                            "dump into a file is written in place, its signature last; open it without O_APPEND",
                            who));
  }
  impl->kind = Kind::caller_file;
  return DumpOutput(std::move(impl));
}

}  // namespace snapdump
