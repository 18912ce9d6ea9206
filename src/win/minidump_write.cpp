// MiniDumpWriteDump over snapdump::write_minidump: the target is a snapshot handle when the
// callback answers IsProcessSnapshotCallback with S_FALSE, else a live process captured here
// first. FALSE + SetLastError(HRESULT) on failure, as DbgHelp does.
#include <unistd.h>

#include <cstring>
#include <optional>

#include "snapdump/minidump.h"
#include "win/callback_bridge.h"
#include "win/handles.h"
#include "win/self_dump.h"
#include "win/win_errors.h"

using namespace snapdump;
using namespace snapdump::win;

namespace {

struct Failure {
  HRESULT hr;
};

// Reads a T the caller's pointer names: in this process, or with ClientPointers in the
// target's memory as captured.
template <class T>
T fetch(const Snapshot& s, const void* where, bool client_pointers) {
  T value{};
  if (!where) throw Failure{E_INVALIDARG};
  if (!client_pointers) {
    std::memcpy(static_cast<void*>(&value), where, sizeof(T));
    return value;
  }
  std::span<uint8_t> out(reinterpret_cast<uint8_t*>(&value), sizeof(T));
  if (s.read_memory(reinterpret_cast<uint64_t>(where), out) != sizeof(T))
    throw Failure{hresult_from_win32(ERROR_PARTIAL_COPY)};
  return value;
}

// MINIDUMP_EXCEPTION_INFORMATION as the Linux exception stream: ExceptionCode is the signal
// number, ExceptionInformation[0] (when present) the si_code, ExceptionAddress si_addr.
DumpException exception_of(const Snapshot& s, const MINIDUMP_EXCEPTION_INFORMATION& info) {
  bool client = info.ClientPointers != FALSE;
  auto pointers = fetch<EXCEPTION_POINTERS>(s, info.ExceptionPointers, client);
  DumpException ex;
  ex.thread_id = info.ThreadId;
  if (pointers.ExceptionRecord) {
    auto record = fetch<EXCEPTION_RECORD>(s, pointers.ExceptionRecord, client);
    ex.signal = static_cast<int>(record.ExceptionCode);
    ex.address = reinterpret_cast<uint64_t>(record.ExceptionAddress);
    if (record.NumberParameters >= 1) ex.code = static_cast<int>(record.ExceptionInformation[0]);
  }
  if (pointers.ContextRecord) {
    auto context = fetch<CONTEXT>(s, pointers.ContextRecord, client);
    ex.context.resize(sizeof(CONTEXT));
    std::memcpy(ex.context.data(), &context, sizeof(CONTEXT));
  }
  return ex;
}

std::vector<UserStream> user_streams_of(const MINIDUMP_USER_STREAM_INFORMATION& info) {
  std::vector<UserStream> streams;
  if (info.UserStreamCount && !info.UserStreamArray) throw Failure{E_INVALIDARG};
  for (ULONG i = 0; i < info.UserStreamCount; ++i) {
    const MINIDUMP_USER_STREAM& u = info.UserStreamArray[i];
    if (u.BufferSize && !u.Buffer) throw Failure{E_INVALIDARG};
    auto* bytes = static_cast<const uint8_t*>(u.Buffer);
    streams.push_back(UserStream{u.Type, std::vector<uint8_t>(bytes, bytes + u.BufferSize)});
  }
  return streams;
}

void write_snapshot(const Snapshot& snapshot, FileObject* file, MINIDUMP_TYPE DumpType,
                    PMINIDUMP_EXCEPTION_INFORMATION ExceptionParam, PMINIDUMP_USER_STREAM_INFORMATION UserStreamParam,
                    std::optional<CallbackBridge>& bridge) {
  DumpOptions options;
  options.type = DumpType;
  options.callbacks = bridge ? &*bridge : nullptr;
  if (ExceptionParam) options.exception = exception_of(snapshot, *ExceptionParam);
  if (UserStreamParam) options.user_streams = user_streams_of(*UserStreamParam);
  write_minidump(snapshot, file ? file->fd : -1, options);
}


void write_dump(HANDLE hProcess, DWORD ProcessId, HANDLE hFile, MINIDUMP_TYPE DumpType,
                PMINIDUMP_EXCEPTION_INFORMATION ExceptionParam, PMINIDUMP_USER_STREAM_INFORMATION UserStreamParam,
                PMINIDUMP_CALLBACK_INFORMATION CallbackParam) {
  auto* file = find<FileObject>(hFile, HandleKind::file);
  std::optional<CallbackBridge> bridge;
  if (CallbackParam && CallbackParam->CallbackRoutine)
    bridge.emplace(*CallbackParam, ProcessId, hProcess, hFile);
  // Without a file, every byte must go through IoWriteAll; that is known only at IoStart, so a
  // missing file is refused here only when there is no callback to take the bytes.
  if (!file && !bridge) throw Failure{hresult_from_win32(ERROR_INVALID_HANDLE)};

  Snapshot snapshot;
  if (bridge && bridge->is_process_snapshot()) {
    auto* object = find<SnapshotObject>(hProcess, HandleKind::snapshot);
    if (!object) throw Failure{hresult_from_win32(ERROR_INVALID_HANDLE)};
    snapshot = object->snapshot.duplicate();
  } else {
    pid_t pid = pid_of_process_handle(hProcess);
    if (pid < 0) throw Failure{hresult_from_win32(ERROR_INVALID_HANDLE)};
    if (ProcessId != 0 && static_cast<pid_t>(ProcessId) != pid) throw Failure{E_INVALIDARG};
    // Refused before the capture, so an unwritable type never pauses the target.
    check_dump_type(DumpType);
    if (pid == ::getpid()) {
      // This process itself: a forked helper captures and writes it (self_dump.h).
      HRESULT hr = run_in_dump_helper([&]() -> HRESULT {
        try {
          Snapshot self = Snapshot::capture(pid, capture_flags_for(DumpType) | capture::kVaClone);
          write_snapshot(self, file, DumpType, ExceptionParam, UserStreamParam, bridge);
          return S_OK;
        } catch (const Failure& f) {
          return f.hr;
        } catch (...) {
          return hresult_from_win32(win32_error_of(std::current_exception(), Operation::write));
        }
      });
      if (FAILED(hr)) throw Failure{hr};
      return;
    }
    snapshot = Snapshot::capture(pid, capture_flags_for(DumpType));
  }
  write_snapshot(snapshot, file, DumpType, ExceptionParam, UserStreamParam, bridge);
}
}  // namespace

extern "C" BOOL WINAPI MiniDumpWriteDump(HANDLE hProcess, DWORD ProcessId, HANDLE hFile, MINIDUMP_TYPE DumpType,
                                         PMINIDUMP_EXCEPTION_INFORMATION ExceptionParam,
                                         PMINIDUMP_USER_STREAM_INFORMATION UserStreamParam,
                                         PMINIDUMP_CALLBACK_INFORMATION CallbackParam) {
  try {
    write_dump(hProcess, ProcessId, hFile, DumpType, ExceptionParam, UserStreamParam, CallbackParam);
    return TRUE;
  } catch (const Failure& f) {
    set_last_error(static_cast<DWORD>(f.hr));
  } catch (...) {
    set_last_error(static_cast<DWORD>(hresult_from_win32(win32_error_of(std::current_exception(), Operation::write))));
  }
  return FALSE;
}
