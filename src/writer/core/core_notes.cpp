#include "writer/core/core_notes.h"

#include <elf.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "writer/core/core_format.h"
#include "writer/core/core_segments.h"

namespace snapdump::writer::core {
namespace {

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + size);
}

template <class T>
void put(std::vector<uint8_t>& out, const T& value) {
  put_bytes(out, &value, sizeof value);
}

// One note: Elf64_Nhdr, the name with its NUL, the payload, each padded to 4 bytes (the
// kernel's core notes are 4-aligned even in ELF64).
void put_note(std::vector<uint8_t>& out, const char* name, uint32_t type, const void* desc, size_t size) {
  Elf64_Nhdr header{static_cast<Elf64_Word>(std::strlen(name) + 1), static_cast<Elf64_Word>(size), type};
  put(out, header);
  put_bytes(out, name, header.n_namesz);
  out.resize((out.size() + 3) & ~size_t{3}, 0);
  put_bytes(out, desc, size);
  out.resize((out.size() + 3) & ~size_t{3}, 0);
}

Timeval timeval_of(uint64_t ns) { return {static_cast<int64_t>(ns / 1000000000), static_cast<int64_t>(ns % 1000000000 / 1000)}; }

PrStatus prstatus(const view::ProcessSummary& p, const view::ThreadState& t, const std::optional<view::Signal>& signal) {
  PrStatus s{};
  // The kernel gives every thread the signal that is killing the process (fill_prstatus).
  if (signal) {
    s.si_signo = signal->signo;
    s.si_code = signal->code;
    s.si_errno = signal->error;
    s.cursig = static_cast<int16_t>(signal->signo);
  }
  s.sigpend = t.pending_signals;
  s.sighold = t.blocked_signals;
  s.pid = t.tid;
  s.ppid = p.parent_pid;
  s.pgrp = p.process_group;
  s.sid = p.session;
  s.utime = timeval_of(t.user_time_ns);
  s.stime = timeval_of(t.kernel_time_ns);
  s.reg = t.regs;
  s.fpvalid = t.fpregs ? 1 : 0;
  return s;
}

PrPsInfo prpsinfo(const view::ProcessSummary& p) {
  PrPsInfo info{};
  // The kernel's state index into "RSDTZW" and its letter ('.' past it).
  constexpr std::string_view kStates = "RSDTZW";
  size_t index = p.state == 0 ? std::string_view::npos : kStates.find(p.state == 't' ? 'T' : p.state);
  info.state = static_cast<char>(index == std::string_view::npos ? 0 : index);
  info.sname = p.state == 0 ? '.' : (p.state == 't' ? 'T' : p.state);
  info.zomb = p.state == 'Z';
  info.nice = static_cast<char>(p.nice);
  info.uid = p.uid;
  info.gid = p.gid;
  info.pid = p.pid;
  info.ppid = p.parent_pid;
  info.pgrp = p.process_group;
  info.sid = p.session;
  std::memcpy(info.fname, p.name.data(), std::min(p.name.size(), sizeof info.fname - 1));
  // argv with its NULs as spaces, as the kernel writes it, but without the trailing space the
  // last NUL would leave (readers strip it anyway).
  std::string_view args = p.command_line;
  while (!args.empty() && args.back() == '\0') args.remove_suffix(1);
  size_t n = std::min(args.size(), kPrArgSize - 1);
  for (size_t i = 0; i < n; ++i) info.psargs[i] = args[i] == '\0' ? ' ' : args[i];
  return info;
}

bool fault_signal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP;
}

SigInfo siginfo(const view::Signal& signal) {
  SigInfo info{};
  info.signo = signal.signo;
  info.errno_ = signal.error;
  info.code = signal.code;
  if (fault_signal(signal.signo)) info.fields.addr = signal.address;
  return info;
}

void thread_regsets(std::vector<uint8_t>& out, const view::ThreadState& t) {
  if (t.fpregs) put_note(out, kNameCore, kNtPrFpReg, &*t.fpregs, sizeof *t.fpregs);
  if (!t.xsave.empty()) put_note(out, kNameLinux, kNtX86XState, t.xsave.data(), t.xsave.size());
}

}  // namespace

std::vector<const view::ThreadState*> ordered_threads(const std::vector<const view::ThreadState*>& threads, pid_t pid,
                                                      const std::optional<view::Signal>& signal) {
  std::vector<const view::ThreadState*> out = threads;
  pid_t first = signal && signal->thread != 0 ? signal->thread : pid;
  auto it = std::find_if(out.begin(), out.end(), [&](const view::ThreadState* t) { return t->tid == first; });
  if (it != out.end()) std::rotate(out.begin(), it, it + 1);
  return out;
}

std::vector<uint8_t> file_note(const view::ProcessView& view) {
  std::vector<uint64_t> words{0, kPageSize};
  std::vector<uint8_t> names;
  for (const view::Mapping& m : view.mappings()) {
    if (m.path.empty() || m.path.front() != '/') continue;
    words.insert(words.end(), {m.start, m.end, m.file_offset / kPageSize});
    names.insert(names.end(), m.path.begin(), m.path.end());
    names.push_back(0);
    ++words[0];
  }
  std::vector<uint8_t> out;
  put_bytes(out, words.data(), words.size() * sizeof(uint64_t));
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

std::vector<uint8_t> build_notes(const view::ProcessView& view, const std::vector<const view::ThreadState*>& threads,
                                 const std::optional<view::Signal>& signal) {
  const view::ProcessSummary& p = view.process();
  std::vector<uint8_t> out;
  bool first = true;
  for (const view::ThreadState* t : threads) {
    PrStatus status = prstatus(p, *t, signal);
    put_note(out, kNameCore, kNtPrStatus, &status, sizeof status);
    if (first) {
      PrPsInfo info = prpsinfo(p);
      put_note(out, kNameCore, kNtPrPsInfo, &info, sizeof info);
      if (signal) {
        SigInfo si = siginfo(*signal);
        put_note(out, kNameCore, kNtSigInfo, &si, sizeof si);
      }
      if (!p.auxv.empty()) put_note(out, kNameCore, kNtAuxv, p.auxv.data(), p.auxv.size());
      std::vector<uint8_t> files = file_note(view);
      put_note(out, kNameCore, kNtFile, files.data(), files.size());
      first = false;
    }
    thread_regsets(out, *t);
  }
  return out;
}

}  // namespace snapdump::writer::core
