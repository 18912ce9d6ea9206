// MINIDUMP_CALLBACK_ROUTINE as a snapdump::DumpCallbacks: each virtual builds the
// MINIDUMP_CALLBACK_INPUT of its MINIDUMP_CALLBACK_TYPE, calls the routine, and reads the
// MINIDUMP_CALLBACK_OUTPUT back with the meaning the callback-type documentation gives it.
#pragma once

#include <string>

#include "snapdump/dump_callbacks.h"
#include "snapdump/win/minidumpapiset.h"

namespace snapdump::win {

class CallbackBridge : public DumpCallbacks {
 public:
  CallbackBridge(MINIDUMP_CALLBACK_INFORMATION info, DWORD pid, HANDLE process, HANDLE file)
      : info_(info), pid_(pid), process_(process), file_(file) {}

  // IsProcessSnapshotCallback: true when the callback answers S_FALSE (hProcess is an HPSS).
  bool is_process_snapshot();

  bool io_start() override;
  bool io_write_all(uint64_t offset, std::span<const uint8_t> bytes) override;
  bool io_finish() override;
  uint32_t secondary_flags(uint32_t flags) override;
  bool include_thread(uint32_t tid, ThreadWriteFlags& flags) override;
  bool include_module(uint64_t base, ModuleWriteFlags& flags) override;
  bool thread(const ThreadCallbackInfo& info, ThreadWriteFlags& flags) override;
  bool module(const ModuleCallbackInfo& info, ModuleWriteFlags& flags) override;
  std::optional<MemoryRange> memory() override;
  std::optional<MemoryRange> remove_memory() override;
  bool include_vm_region(VmRegionInfo& region) override;
  CancelAnswer cancel() override;
  bool read_memory_failure(uint64_t address, uint64_t bytes, int error) override;
  bool vm_start() override;
  std::optional<VmRegionInfo> vm_query(uint64_t address) override;
  VmReadAnswer vm_pre_read(uint64_t address, std::span<uint8_t> buffer) override;
  VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t> buffer, size_t completed, int error) override;
  bool write_kernel_minidump() override;

 private:
  // Calls the routine with `input` (its common fields filled here); returns its BOOL.
  bool call(MINIDUMP_CALLBACK_TYPE type, MINIDUMP_CALLBACK_INPUT& input, MINIDUMP_CALLBACK_OUTPUT& output);

  MINIDUMP_CALLBACK_INFORMATION info_;
  DWORD pid_;
  HANDLE process_;
  HANDLE file_;
};

}  // namespace snapdump::win
