// A thread whose vector registers hold known values at every instant after it is parked, so
// a test can check that a capture reads the extended (XSAVE) register state correctly.
#include <cstdint>

#include "park_functions.h"
#include "thread_registry.h"

namespace sdtarget {
namespace {

struct AvxTable {
  alignas(32) unsigned char bytes[kAvxRegisters][32];
  AvxTable() {
    for (int reg = 0; reg < kAvxRegisters; ++reg)
      for (int i = 0; i < 32; ++i) bytes[reg][i] = static_cast<unsigned char>((reg * 32 + i) ^ 0x5A);
  }
};

const AvxTable g_table;

}  // namespace

bool avx_supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx");
}

const unsigned char* avx_register_bytes(int index) { return g_table.bytes[index]; }

}  // namespace sdtarget

extern "C" __attribute__((noinline, used)) void* hold_avx_registers(void* argument) {
  auto& slot = *static_cast<sdtarget::ThreadSlot*>(argument);
  sdtarget::announce_thread(slot);
  // One asm block from the loads to the endless loop: the compiler gets no chance to reuse
  // the registers, and the loop makes no calls and no syscalls that could touch them. The
  // "parked" flag is raised from inside the block, after the loads, so the READY line is
  // only written once the values are in place. The block never exits, so no clobbers.
  asm volatile(
      "vmovdqu 0(%0), %%ymm0\n\t"
      "vmovdqu 32(%0), %%ymm1\n\t"
      "vmovdqu 64(%0), %%ymm2\n\t"
      "vmovdqu 96(%0), %%ymm3\n\t"
      "vmovdqu 128(%0), %%ymm4\n\t"
      "vmovdqu 160(%0), %%ymm5\n\t"
      "vmovdqu 192(%0), %%ymm6\n\t"
      "vmovdqu 224(%0), %%ymm7\n\t"
      "movl $1, (%1)\n\t"
      "1:\n\t"
      "pause\n\t"
      "jmp 1b\n\t"
      :
      : "r"(sdtarget::avx_register_bytes(0)), "r"(&slot.parked)
      : "memory");
  __builtin_unreachable();
}
