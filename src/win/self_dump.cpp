#include "win/self_dump.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "win/win_errors.h"

namespace snapdump::win {

namespace {

bool write_all(int fd, const void* data, size_t size) {
  auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n, size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

HRESULT run_in_dump_helper(const std::function<HRESULT()>& body) {
  int go[2], result[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return hresult_from_win32(win32_error_from_errno(errno));
  if (::pipe2(result, O_CLOEXEC) != 0) {
    ::close(go[0]), ::close(go[1]);
    return hresult_from_win32(win32_error_from_errno(errno));
  }
  pid_t child = ::fork();
  if (child < 0) {
    ::close(go[0]), ::close(go[1]), ::close(result[0]), ::close(result[1]);
    return hresult_from_win32(ERROR_NOT_ENOUGH_MEMORY);
  }
  if (child == 0) {
    // The helper: wait until the parent allows tracing, do the work, report, and leave without
    // running the parent's atexit handlers or static destructors.
    ::close(go[1]), ::close(result[0]);
    char byte = 0;
    HRESULT hr = read_all(go[0], &byte, 1) ? body() : E_FAIL;
    write_all(result[1], &hr, sizeof hr);
    ::_exit(0);
  }
  ::close(go[0]), ::close(result[1]);
  // Yama ptrace_scope 1 lets only ancestors trace; this names the helper as an allowed tracer.
  ::prctl(PR_SET_PTRACER, static_cast<unsigned long>(child), 0, 0, 0);
  char byte = 1;
  write_all(go[1], &byte, 1);
  ::close(go[1]);
  HRESULT hr = E_FAIL;
  if (!read_all(result[0], &hr, sizeof hr)) hr = E_FAIL;
  ::close(result[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  ::prctl(PR_SET_PTRACER, 0, 0, 0, 0);
  return hr;
}

}  // namespace snapdump::win
