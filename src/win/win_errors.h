// Errors as Windows reports them: the Win32 code for each snapdump Errc (the table in
// docs/win-api.md), HRESULTs for MiniDumpWriteDump, and the per-thread last error.
#pragma once

#include <exception>

#include "snapdump/error.h"
#include "snapdump/win/windows.h"

namespace snapdump::win {

enum class Operation { capture, write };

// The Win32 error code for a snapdump error. io_error reads as a read fault while capturing
// and a write fault while writing.
DWORD win32_error(Errc code, Operation op);
// The Win32 error code for the exception in flight (Error, bad_alloc, anything else).
DWORD win32_error_of(const std::exception_ptr& error, Operation op);
// An errno as a Win32 error code (for CreateFile and read failures).
DWORD win32_error_from_errno(int err);
constexpr HRESULT hresult_from_win32(DWORD code) {
  return code == 0 ? S_OK : static_cast<HRESULT>((code & 0xFFFF) | (FACILITY_WIN32 << 16) | 0x80000000u);
}

void set_last_error(DWORD code);

}  // namespace snapdump::win
