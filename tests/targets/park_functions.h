// Thread bodies. Each is extern "C", out of line and distinctly named so that a stack walk of
// a captured thread ends in a symbol a test can look for. Each takes its ThreadSlot*.
#pragma once

extern "C" {
void* park_in_nanosleep(void* slot);
void* park_in_pipe_read(void* slot);
void* park_in_futex_wait(void* slot);
void* park_in_epoll_wait(void* slot);
void* park_in_accept(void* slot);
void* spin_in_user_space(void* slot);
void* spin_for_load(void* slot);
void* park_idle(void* slot);
void* heartbeat_loop(void* slot);
void* hold_avx_registers(void* slot);
}

namespace sdtarget {
// Whether hold_avx_registers can run here, and the values it loads.
bool avx_supported();
constexpr int kAvxRegisters = 8;  // ymm0..ymm7
const unsigned char* avx_register_bytes(int index);  // 32 bytes of ymm<index>
}  // namespace sdtarget
