#include "win/win_errors.h"

#include <cerrno>
#include <new>

namespace snapdump::win {

namespace {
thread_local DWORD last_error = ERROR_SUCCESS;
}

void set_last_error(DWORD code) { last_error = code; }

DWORD win32_error(Errc code, Operation op) {
  switch (code) {
    // Windows' OpenProcess answers ERROR_INVALID_PARAMETER for a PID that does not exist.
    case Errc::no_such_process: return ERROR_INVALID_PARAMETER;
    case Errc::process_exited: return ERROR_PROCESS_ABORTED;
    case Errc::permission_denied: return ERROR_ACCESS_DENIED;
    // Only one tracer per process: the target is busy with another debugger.
    case Errc::already_traced: return ERROR_BUSY;
    case Errc::not_supported: return ERROR_NOT_SUPPORTED;
    case Errc::invalid_argument: return ERROR_INVALID_PARAMETER;
    case Errc::resource_exhausted: return ERROR_NOT_ENOUGH_MEMORY;
    case Errc::io_error: return op == Operation::write ? ERROR_WRITE_FAULT : ERROR_READ_FAULT;
    // What ReadProcessMemory answers for memory it cannot read, and so what MiniDumpWriteDump
    // fails with (HRESULT 0x8007012B) when such a read may not be left out.
    case Errc::memory_unreadable: return ERROR_PARTIAL_COPY;
    case Errc::no_space: return ERROR_DISK_FULL;
    case Errc::cancelled: return ERROR_CANCELLED;
    case Errc::corrupt_input: return ERROR_FILE_CORRUPT;
    case Errc::not_captured: return ERROR_NOT_FOUND;
    case Errc::already_exists: return ERROR_FILE_EXISTS;
    case Errc::internal: return ERROR_INTERNAL_ERROR;
  }
  return ERROR_INTERNAL_ERROR;
}

DWORD win32_error_of(const std::exception_ptr& error, Operation op) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return win32_error(e.code(), op);
  } catch (const std::bad_alloc&) {
    return ERROR_NOT_ENOUGH_MEMORY;
  } catch (...) {
    return ERROR_INTERNAL_ERROR;
  }
}

DWORD win32_error_from_errno(int err) {
  switch (err) {
    case 0: return ERROR_SUCCESS;
    case ENOENT: return ERROR_FILE_NOT_FOUND;
    case ENOTDIR: return ERROR_PATH_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS: return ERROR_ACCESS_DENIED;
    case EEXIST: return ERROR_FILE_EXISTS;
    case EMFILE:
    case ENFILE: return ERROR_TOO_MANY_OPEN_FILES;
    case ENOSPC:
    case EDQUOT: return ERROR_DISK_FULL;
    case ENOMEM: return ERROR_NOT_ENOUGH_MEMORY;
    case EINVAL: return ERROR_INVALID_PARAMETER;
    case ENAMETOOLONG: return ERROR_INVALID_NAME;
    case EBADF: return ERROR_INVALID_HANDLE;
    case EFAULT:
    case EIO: return ERROR_PARTIAL_COPY;
    case ESRCH: return ERROR_INVALID_PARAMETER;
    default: return ERROR_GEN_FAILURE;
  }
}

}  // namespace snapdump::win

extern "C" DWORD WINAPI GetLastError(void) { return snapdump::win::last_error; }
extern "C" void WINAPI SetLastError(DWORD dwErrCode) { snapdump::win::last_error = dwErrCode; }
