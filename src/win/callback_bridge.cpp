#include "win/callback_bridge.h"

#include <cerrno>
#include <cstring>

#include "win/wide.h"
#include "win/win_errors.h"
#include "writer/streams.h"

namespace snapdump::win {

namespace {

MINIDUMP_MEMORY_INFO memory_info(const VmRegionInfo& r) {
  MINIDUMP_MEMORY_INFO m{};
  m.BaseAddress = r.base;
  m.AllocationBase = r.allocation_base;
  m.AllocationProtect = r.allocation_protect;
  m.RegionSize = r.size;
  m.State = r.state;
  m.Protect = r.protect;
  m.Type = r.type;
  return m;
}

VmRegionInfo region_info(const MINIDUMP_MEMORY_INFO& m) {
  VmRegionInfo r;
  r.base = m.BaseAddress;
  r.allocation_base = m.AllocationBase;
  r.allocation_protect = m.AllocationProtect;
  r.size = m.RegionSize;
  r.state = m.State;
  r.protect = m.Protect;
  r.type = m.Type;
  return r;
}

// A failed VM callback read: the errno the writer reports for an HRESULT answer.
int errno_of(HRESULT status) { return status == S_OK ? 0 : EIO; }
HRESULT hresult_of_errno(int error) {
  return error == 0 ? S_OK : hresult_from_win32(win32_error_from_errno(error));
}

}  // namespace

bool CallbackBridge::call(MINIDUMP_CALLBACK_TYPE type, MINIDUMP_CALLBACK_INPUT& input,
                          MINIDUMP_CALLBACK_OUTPUT& output) {
  input.ProcessId = pid_;
  input.ProcessHandle = process_;
  input.CallbackType = type;
  return info_.CallbackRoutine(info_.CallbackParam, &input, &output) != FALSE;
}

bool CallbackBridge::is_process_snapshot() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Status = S_OK;
  return call(IsProcessSnapshotCallback, in, out) && out.Status == S_FALSE;
}

bool CallbackBridge::io_start() {
  MINIDUMP_CALLBACK_INPUT in{};
  in.Io.Handle = file_;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Status = S_OK;
  return call(IoStartCallback, in, out) && out.Status == S_FALSE;
}

bool CallbackBridge::io_write_all(uint64_t offset, std::span<const uint8_t> bytes) {
  // BufferBytes is a ULONG: larger writes go in pieces.
  constexpr size_t kPiece = 1u << 30;
  for (size_t done = 0; done < bytes.size() || (bytes.empty() && done == 0);) {
    size_t n = std::min(kPiece, bytes.size() - done);
    MINIDUMP_CALLBACK_INPUT in{};
    in.Io.Handle = file_;
    in.Io.Offset = offset + done;
    in.Io.Buffer = const_cast<uint8_t*>(bytes.data() + done);
    in.Io.BufferBytes = static_cast<ULONG>(n);
    MINIDUMP_CALLBACK_OUTPUT out{};
    out.Status = E_FAIL;
    if (!call(IoWriteAllCallback, in, out) || out.Status != S_OK) return false;
    if (bytes.empty()) break;
    done += n;
  }
  return true;
}

bool CallbackBridge::io_finish() {
  MINIDUMP_CALLBACK_INPUT in{};
  in.Io.Handle = file_;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Status = E_FAIL;
  return call(IoFinishCallback, in, out) && out.Status == S_OK;
}

uint32_t CallbackBridge::secondary_flags(uint32_t flags) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.SecondaryFlags = flags;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.SecondaryFlags = flags;
  return call(SecondaryFlagsCallback, in, out) ? out.SecondaryFlags : flags;
}

bool CallbackBridge::include_thread(uint32_t tid, ThreadWriteFlags& flags) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.IncludeThread.ThreadId = tid;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.ThreadWriteFlags = flags;
  if (!call(IncludeThreadCallback, in, out)) return false;
  flags &= out.ThreadWriteFlags;  // flags may be narrowed, never widened
  return true;
}

bool CallbackBridge::include_module(uint64_t base, ModuleWriteFlags& flags) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.IncludeModule.BaseOfImage = base;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.ModuleWriteFlags = flags;
  if (!call(IncludeModuleCallback, in, out)) return false;
  flags &= out.ModuleWriteFlags;
  return true;
}

bool CallbackBridge::thread(const ThreadCallbackInfo& info, ThreadWriteFlags& flags) {
  // MINIDUMP_CALLBACK_INPUT holds a whole CONTEXT: about 1.3 KB, fine on the stack.
  MINIDUMP_CALLBACK_INPUT in{};
  in.Thread.ThreadId = static_cast<ULONG>(info.thread.tid);
  in.Thread.ThreadHandle = nullptr;
  format::ContextAmd64 c = writer::to_context(info.thread);
  std::memcpy(static_cast<void*>(&in.Thread.Context), &c, sizeof c);
  in.Thread.SizeOfContext = sizeof(CONTEXT);
  in.Thread.StackBase = info.stack_base;
  in.Thread.StackEnd = info.stack_end;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.ThreadWriteFlags = flags;
  if (!call(ThreadCallback, in, out)) return false;
  flags &= out.ThreadWriteFlags;
  return true;
}

bool CallbackBridge::module(const ModuleCallbackInfo& info, ModuleWriteFlags& flags) {
  std::wstring path = widen(info.path);
  MINIDUMP_CALLBACK_INPUT in{};
  in.Module.FullPath = path.data();
  in.Module.BaseOfImage = info.base;
  in.Module.SizeOfImage = static_cast<ULONG>(info.size);
  in.Module.CheckSum = info.checksum;
  in.Module.TimeDateStamp = info.time_date_stamp;
  in.Module.CvRecord = const_cast<uint8_t*>(info.cv_record.data());
  in.Module.SizeOfCvRecord = static_cast<ULONG>(info.cv_record.size());
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.ModuleWriteFlags = flags;
  if (!call(ModuleCallback, in, out)) return false;
  flags &= out.ModuleWriteFlags;
  return true;
}

std::optional<MemoryRange> CallbackBridge::memory() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  if (!call(MemoryCallback, in, out) || out.MemorySize == 0) return std::nullopt;
  return MemoryRange{out.MemoryBase, out.MemorySize};
}

std::optional<MemoryRange> CallbackBridge::remove_memory() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  if (!call(RemoveMemoryCallback, in, out) || out.MemorySize == 0) return std::nullopt;
  return MemoryRange{out.MemoryBase, out.MemorySize};
}

bool CallbackBridge::include_vm_region(VmRegionInfo& region) {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.VmRegion = memory_info(region);
  out.Continue = FALSE;
  if (!call(IncludeVmRegionCallback, in, out) || !out.Continue) return false;
  // Only the base and size may change (a subset); the writer checks the subset.
  region.base = out.VmRegion.BaseAddress;
  region.size = out.VmRegion.RegionSize;
  return true;
}

CancelAnswer CallbackBridge::cancel() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.CheckCancel = FALSE;
  out.Cancel = FALSE;
  if (!call(CancelCallback, in, out)) return {};
  return {out.CheckCancel != FALSE, out.Cancel != FALSE};
}

bool CallbackBridge::read_memory_failure(uint64_t address, uint64_t bytes, int error) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.ReadMemoryFailure.Offset = address;
  in.ReadMemoryFailure.Bytes = static_cast<ULONG>(std::min<uint64_t>(bytes, UINT32_MAX));
  in.ReadMemoryFailure.FailureStatus = hresult_of_errno(error);
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Status = E_FAIL;
  return call(ReadMemoryFailureCallback, in, out) && out.Status == S_OK;
}

bool CallbackBridge::vm_start() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Status = S_OK;
  return call(VmStartCallback, in, out) && out.Status == S_FALSE;
}

std::optional<VmRegionInfo> CallbackBridge::vm_query(uint64_t address) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.VmQuery.Offset = address;
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.VmQueryStatus = E_NOTIMPL;
  if (!call(VmQueryCallback, in, out) || out.VmQueryStatus != S_OK) return std::nullopt;
  return region_info(out.VmQueryResult);
}

VmReadAnswer CallbackBridge::vm_pre_read(uint64_t address, std::span<uint8_t> buffer) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.VmPreRead.Offset = address;
  in.VmPreRead.Buffer = buffer.data();
  in.VmPreRead.Size = static_cast<ULONG>(buffer.size());
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.VmReadStatus = S_OK;
  out.VmReadBytesCompleted = 0;
  if (!call(VmPreReadCallback, in, out)) return {};
  return {errno_of(out.VmReadStatus), std::min<size_t>(out.VmReadBytesCompleted, buffer.size())};
}

VmReadAnswer CallbackBridge::vm_post_read(uint64_t address, std::span<uint8_t> buffer, size_t completed, int error) {
  MINIDUMP_CALLBACK_INPUT in{};
  in.VmPostRead.Offset = address;
  in.VmPostRead.Buffer = buffer.data();
  in.VmPostRead.Size = static_cast<ULONG>(buffer.size());
  in.VmPostRead.Completed = static_cast<ULONG>(completed);
  in.VmPostRead.Status = hresult_of_errno(error);
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.VmReadStatus = in.VmPostRead.Status;
  out.VmReadBytesCompleted = in.VmPostRead.Completed;
  if (!call(VmPostReadCallback, in, out)) return {error, completed};
  int status = out.VmReadStatus == in.VmPostRead.Status ? error : errno_of(out.VmReadStatus);
  return {status, std::min<size_t>(out.VmReadBytesCompleted, buffer.size())};
}

bool CallbackBridge::write_kernel_minidump() {
  MINIDUMP_CALLBACK_INPUT in{};
  MINIDUMP_CALLBACK_OUTPUT out{};
  out.Handle = nullptr;
  if (call(WriteKernelMinidumpCallback, in, out) && out.Handle) {
    // Linux has no kernel minidump: the caller learns it through the status callback.
    MINIDUMP_CALLBACK_INPUT status{};
    status.Status = E_NOTIMPL;
    MINIDUMP_CALLBACK_OUTPUT ignored{};
    call(KernelMinidumpStatusCallback, status, ignored);
  }
  return false;
}

}  // namespace snapdump::win
