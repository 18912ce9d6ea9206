#include "common/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump {
namespace {

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  Mapping(void* a, size_t s) : addr(a), size(s) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(addr, size); }
};

Error open_error(const std::string& what, const std::string& path, int err) {
  Errc code = (err == EACCES || err == EPERM) ? Errc::permission_denied : Errc::io_error;
  return Error(code, fmt::format("{} {}: {}", what, path, std::strerror(err)), err);
}

}  // namespace

MappedFile map_file(const std::string& path, const char* kind) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw open_error("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw open_error("cannot stat", path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(Errc::corrupt_input, fmt::format("{} is not a regular file: not {}", path, kind));
  }
  if (st.st_size == 0) {
    ::close(fd);
    throw Error(Errc::corrupt_input, fmt::format("{} is empty: not {}", path, kind));
  }
  const auto size = static_cast<size_t>(st.st_size);
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (addr == MAP_FAILED) throw open_error("cannot map", path, err);
  return {std::make_shared<const Mapping>(addr, size), {static_cast<const uint8_t*>(addr), size}};
}

}  // namespace snapdump
