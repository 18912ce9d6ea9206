#include "unwind/thread_callbacks.h"

#include <cstring>
#include <stdexcept>
#include <string>

namespace snapdump::unwind {
namespace {

// The process argument is the session; a thread's argument is its ThreadState in the view
// (libdwfl starts the walk with a null one).
const view::ProcessView& view_of(void* dwfl_arg) { return static_cast<DwflSession*>(dwfl_arg)->view(); }

pid_t next_thread(Dwfl*, void* dwfl_arg, void** thread_argp) {
  auto threads = view_of(dwfl_arg).threads();
  size_t next = *thread_argp == nullptr ? 0 : static_cast<const view::ThreadState*>(*thread_argp) - threads.data() + 1;
  if (next >= threads.size()) return 0;
  *thread_argp = const_cast<view::ThreadState*>(&threads[next]);
  return threads[next].tid;
}

bool get_thread(Dwfl*, pid_t tid, void* dwfl_arg, void** thread_argp) {
  for (const view::ThreadState& t : view_of(dwfl_arg).threads()) {
    if (t.tid == tid) {
      *thread_argp = const_cast<view::ThreadState*>(&t);
      return true;
    }
  }
  return false;
}

bool memory_read(Dwfl*, Dwarf_Addr address, Dwarf_Word* result, void* dwfl_arg) {
  uint8_t bytes[sizeof(Dwarf_Word)];
  if (view_of(dwfl_arg).read_memory(address, bytes) != sizeof bytes) return false;
  std::memcpy(result, bytes, sizeof bytes);
  return true;
}

// x86-64's DWARF register numbers (the psABI's table): rax rdx rcx rbx rsi rdi rbp rsp r8..r15,
// then 16, the return address column, which holds the initial frame's pc.
bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
  const user_regs_struct& r = static_cast<const view::ThreadState*>(thread_arg)->regs;
  const Dwarf_Word regs[17] = {r.rax, r.rdx, r.rcx, r.rbx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8,
                               r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip};
  if (!dwfl_thread_state_registers(thread, 0, 17, regs)) return false;
  dwfl_thread_state_register_pc(thread, r.rip);
  return true;
}

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
    .detach = nullptr,
    .thread_detach = nullptr,
};

// dwfl_attach_state wants an ELF to choose its backend (registers, the frame pointer step)
// by; with none it takes the first module's, and a dump whose binaries are all missing has
// none. An x86-64 ELF header alone says all the backend needs.
struct BackendElf {
  Elf64_Ehdr header{};
  Elf* elf = nullptr;
  BackendElf() {
    std::memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_ident[EI_OSABI] = ELFOSABI_SYSV;
    header.e_type = ET_CORE;
    header.e_machine = EM_X86_64;
    header.e_version = EV_CURRENT;
    header.e_ehsize = sizeof header;
    elf = elf_memory(reinterpret_cast<char*>(&header), sizeof header);
  }
  ~BackendElf() {
    if (elf != nullptr) elf_end(elf);
  }
};

}  // namespace

void attach_threads(DwflSession& session) {
  // libdwfl keeps the Elf only while attaching (it opens its backend from it), but it must
  // outlive the Dwfl for safety: one per process is enough.
  static BackendElf backend;
  if (backend.elf == nullptr) throw std::runtime_error(std::string("libelf: ") + elf_errmsg(-1));
  if (!dwfl_attach_state(session.dwfl(), backend.elf, session.view().process().pid, &kThreadCallbacks, &session))
    throw std::runtime_error(std::string("libdwfl cannot take the threads: ") + dwfl_errmsg(-1));
}

}  // namespace snapdump::unwind
