// The kernel32 subset: process and file handles over PIDs and file descriptors.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "win/handles.h"
#include "win/wide.h"
#include "win/win_errors.h"

using namespace snapdump::win;

namespace {

HANDLE create_file(const char* path, DWORD access, DWORD disposition) {
  if (!path || !*path) {
    set_last_error(ERROR_PATH_NOT_FOUND);
    return INVALID_HANDLE_VALUE;
  }
  int flags = O_CLOEXEC;
  bool read = access & (GENERIC_READ | GENERIC_ALL), write = access & (GENERIC_WRITE | GENERIC_ALL);
  flags |= read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY;
  switch (disposition) {
    case CREATE_NEW: flags |= O_CREAT | O_EXCL; break;
    case CREATE_ALWAYS: flags |= O_CREAT | O_TRUNC; break;
    case OPEN_EXISTING: break;
    case OPEN_ALWAYS: flags |= O_CREAT; break;
    case TRUNCATE_EXISTING: flags |= O_TRUNC; break;
    default:
      set_last_error(ERROR_INVALID_PARAMETER);
      return INVALID_HANDLE_VALUE;
  }
  bool existed = disposition == CREATE_ALWAYS || disposition == OPEN_ALWAYS ? ::access(path, F_OK) == 0 : false;
  int fd = ::open(path, flags, 0666);
  if (fd < 0) {
    set_last_error(win32_error_from_errno(errno));
    return INVALID_HANDLE_VALUE;
  }
  try {
    HANDLE h = register_handle(std::make_unique<FileObject>(fd));
    // As on Windows, CREATE_ALWAYS and OPEN_ALWAYS report an existing file this way on success.
    set_last_error(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
    return h;
  } catch (...) {
    ::close(fd);
    set_last_error(ERROR_NOT_ENOUGH_MEMORY);
    return INVALID_HANDLE_VALUE;
  }
}

}  // namespace

extern "C" {

HANDLE WINAPI OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId) {
  (void)bInheritHandle;
  // Only existence is checked here; access is decided by ptrace when a capture starts, since
  // Linux has no handle that carries rights (docs/win-api.md).
  if (dwProcessId == 0 || dwProcessId > INT32_MAX || (::kill(static_cast<pid_t>(dwProcessId), 0) != 0 && errno == ESRCH)) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return nullptr;
  }
  try {
    return register_handle(std::make_unique<ProcessObject>(static_cast<pid_t>(dwProcessId), dwDesiredAccess));
  } catch (...) {
    set_last_error(ERROR_NOT_ENOUGH_MEMORY);
    return nullptr;
  }
}

HANDLE WINAPI GetCurrentProcess(void) { return current_process_pseudo_handle(); }
DWORD WINAPI GetCurrentProcessId(void) { return static_cast<DWORD>(::getpid()); }
DWORD WINAPI GetCurrentThreadId(void) { return static_cast<DWORD>(::syscall(SYS_gettid)); }

DWORD WINAPI GetProcessId(HANDLE Process) {
  pid_t pid = pid_of_process_handle(Process);
  if (pid < 0) {
    set_last_error(ERROR_INVALID_HANDLE);
    return 0;
  }
  return static_cast<DWORD>(pid);
}

BOOL WINAPI CloseHandle(HANDLE hObject) {
  if (hObject == current_process_pseudo_handle()) return TRUE;  // closing the pseudo-handle is a no-op
  if (!close_registered(hObject)) {
    set_last_error(ERROR_INVALID_HANDLE);
    return FALSE;
  }
  return TRUE;
}

HANDLE WINAPI CreateFileA(LPCSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile) {
  (void)dwShareMode, (void)lpSecurityAttributes, (void)dwFlagsAndAttributes, (void)hTemplateFile;
  return create_file(lpFileName, dwDesiredAccess, dwCreationDisposition);
}

HANDLE WINAPI CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
                          LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
                          DWORD dwFlagsAndAttributes, HANDLE hTemplateFile) {
  (void)dwShareMode, (void)lpSecurityAttributes, (void)dwFlagsAndAttributes, (void)hTemplateFile;
  if (!lpFileName) {
    set_last_error(ERROR_PATH_NOT_FOUND);
    return INVALID_HANDLE_VALUE;
  }
  std::string path = narrow(lpFileName);
  return create_file(path.c_str(), dwDesiredAccess, dwCreationDisposition);
}

BOOL WINAPI GetFileSizeEx(HANDLE hFile, PLARGE_INTEGER lpFileSize) {
  auto* file = find<FileObject>(hFile, HandleKind::file);
  struct stat st {};
  if (!file || !lpFileSize) {
    set_last_error(file ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE);
    return FALSE;
  }
  if (::fstat(file->fd, &st) != 0) {
    set_last_error(win32_error_from_errno(errno));
    return FALSE;
  }
  lpFileSize->QuadPart = st.st_size;
  return TRUE;
}

}  // extern "C"
