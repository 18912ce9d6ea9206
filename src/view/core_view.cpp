#include "view/core_view.h"

#include <elf.h>
#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "common/mapped_file.h"
#include "snapdump/error.h"
#include "view/mapped_elf.h"
#include "writer/core/core_format.h"

namespace snapdump::view {
namespace {

namespace fmtc = writer::core;  // the note layouts, shared with the core writer

// The XSAVE area is a few KiB (11 KiB with AMX's tiles): more is not one.
constexpr size_t kMaxXsave = 1 << 20;

template <class T>
T payload(const CoreNote& n) {
  T out{};
  std::memcpy(&out, n.desc.data(), std::min(sizeof out, n.desc.size()));
  return out;
}

uint64_t ns_of(const fmtc::Timeval& t) {
  if (t.sec < 0 || t.usec < 0 || t.sec > INT64_MAX / 1000000000 - 1) return 0;
  return static_cast<uint64_t>(t.sec) * 1000000000 + static_cast<uint64_t>(t.usec % 1000000) * 1000;
}

uint32_t prot_of(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

std::string bounded(const char* text, size_t size) { return std::string(text, strnlen(text, size)); }

// psargs is argv joined with spaces and cut to 79 bytes: split back at the spaces, each word
// ended with a NUL as /proc/PID/cmdline has them.
std::string command_line_of(std::string_view psargs) {
  std::string out;
  size_t at = 0;
  while (at < psargs.size()) {
    size_t space = psargs.find(' ', at);
    if (space == std::string_view::npos) space = psargs.size();
    if (space > at) out.append(psargs.substr(at, space - at)).push_back('\0');
    at = space + 1;
  }
  return out;
}

bool fault_signal(int signo) { return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP; }

}  // namespace

CoreView CoreView::open(const std::string& path) {
  MappedFile file = map_file(path, "an ELF core");
  return CoreView(file.storage, file.bytes, path);
}

CoreView CoreView::from_bytes(std::vector<uint8_t> bytes, const std::string& what) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return CoreView(owned, *owned, what);
}

CoreView::CoreView(std::shared_ptr<const void> storage, std::span<const uint8_t> file, const std::string& what)
    : storage_(std::move(storage)), file_(file) {
  CoreFile core = parse_core_file(file_, what);
  problems_ = std::move(core.problems);
  loads_ = core.loads;
  read_notes(core);
  read_mappings(core);
  find_modules();
  // The file's end missing explains the rest: it is said first.
  std::stable_partition(problems_.begin(), problems_.end(), [](const std::string& p) { return p.starts_with("truncated:"); });
}

void CoreView::read_notes(const CoreFile& core) {
  // The thread the last NT_PRSTATUS began (kNone: none, or it was skipped), and its pr_cursig.
  constexpr size_t kNone = SIZE_MAX;
  size_t current = kNone;
  int cursig = 0;
  std::set<pid_t> tids;
  bool have_psinfo = false, have_auxv = false, have_file = false, have_siginfo = false;
  auto skip = [this](const char* what, const CoreNote& n, const char* why) {
    problems_.push_back(fmt::format("{} note ({} bytes): {}; skipped", what, n.desc.size(), why));
  };
  for (const CoreNote& n : core.notes) {
    // A note type means something only with its owner's name: "GNU" type 3 is a build-id, not
    // NT_PRPSINFO.
    if (n.name == fmtc::kNameLinux && n.type == fmtc::kNtX86XState) {
      if (current == kNone) skip("NT_X86_XSTATE", n, "no NT_PRSTATUS before it");
      else if (n.desc.size() > kMaxXsave) skip("NT_X86_XSTATE", n, "larger than any XSAVE area");
      else threads_[current].xsave.assign(n.desc.begin(), n.desc.end());
      continue;
    }
    if (n.name != fmtc::kNameCore) continue;
    switch (n.type) {
      case fmtc::kNtPrStatus: {
        current = kNone;
        if (n.desc.size() < offsetof(fmtc::PrStatus, fpvalid)) {
          skip("NT_PRSTATUS", n, "too small for elf_prstatus");
          break;
        }
        auto s = payload<fmtc::PrStatus>(n);
        if (!tids.insert(s.pid).second) {
          skip("NT_PRSTATUS", n, fmt::format("a second thread {}", s.pid).c_str());
          break;
        }
        ThreadState t;
        t.tid = s.pid;
        t.regs = s.reg;
        t.pending_signals = s.sigpend;
        t.blocked_signals = s.sighold;
        t.user_time_ns = ns_of(s.utime);
        t.kernel_time_ns = ns_of(s.stime);
        if (threads_.empty()) {
          // When there is no NT_PRPSINFO (the kernel's comes after this, gdb's before, and gdb
          // leaves these 0 here).
          if (!have_psinfo) process_.parent_pid = s.ppid, process_.process_group = s.pgrp, process_.session = s.sid;
          if (s.cursig != 0) signal_ = Signal{s.pid, s.cursig, s.si_code, s.si_errno, 0};
        }
        current = threads_.size();
        cursig = s.cursig;
        threads_.push_back(std::move(t));
        break;
      }
      case fmtc::kNtPrFpReg:
        if (current == kNone) skip("NT_PRFPREG", n, "no NT_PRSTATUS before it");
        else if (n.desc.size() < sizeof(user_fpregs_struct)) skip("NT_PRFPREG", n, "smaller than the 512-byte FXSAVE area");
        else threads_[current].fpregs = payload<user_fpregs_struct>(n);
        break;
      case fmtc::kNtPrPsInfo: {
        if (have_psinfo) break;  // the kernel writes one; a second says nothing new
        if (n.desc.size() < sizeof(fmtc::PrPsInfo)) {
          skip("NT_PRPSINFO", n, "too small for elf_prpsinfo");
          break;
        }
        have_psinfo = true;
        auto p = payload<fmtc::PrPsInfo>(n);
        process_.pid = p.pid, process_.parent_pid = p.ppid, process_.process_group = p.pgrp, process_.session = p.sid;
        process_.uid = p.uid, process_.gid = p.gid;
        process_.state = p.sname == '.' ? 0 : p.sname;
        process_.nice = static_cast<signed char>(p.nice);
        process_.name = bounded(p.fname, sizeof p.fname);
        std::string args = bounded(p.psargs, sizeof p.psargs);
        process_.command_line = command_line_of(args);
        break;
      }
      case fmtc::kNtSigInfo: {
        if (n.desc.size() < offsetof(fmtc::SigInfo, fields) + sizeof(uint64_t)) {
          skip("NT_SIGINFO", n, "too small for siginfo_t");
          break;
        }
        auto si = payload<fmtc::SigInfo>(n);
        // The kernel writes one, after the signalled thread's NT_PRSTATUS; gdb one per thread.
        // gdb's gcore writes each thread's last siginfo, the SIGSTOP of its own attach among
        // them, with a pr_cursig of 0: as gdb, only a signal its thread's pr_cursig names counts.
        if (si.signo == 0 || have_siginfo || (current != kNone && cursig != si.signo)) break;
        have_siginfo = true;
        pid_t thread = current != kNone ? threads_[current].tid : (threads_.empty() ? 0 : threads_.front().tid);
        // si_addr only for a fault the kernel raised (a positive si_code below SI_KERNEL): a sent
        // signal's union holds the sender's pid and uid there.
        bool fault = fault_signal(si.signo) && si.code > 0 && si.code < SI_KERNEL;
        signal_ = Signal{thread, si.signo, si.code, si.errno_, fault ? si.fields.addr : 0};
        break;
      }
      case fmtc::kNtAuxv:
        if (have_auxv) break;
        have_auxv = true;
        process_.auxv.assign(n.desc.begin(), n.desc.end() - static_cast<ptrdiff_t>(n.desc.size() % 16));
        break;
      case fmtc::kNtFile:
        if (have_file) break;
        have_file = true;
        read_file_note(n);
        break;
      default: break;
    }
  }

  if (!have_psinfo) {
    if (!threads_.empty()) process_.pid = threads_.front().tid;
    gaps_.push_back("no NT_PRPSINFO: the process's name, command line, ids and state are unknown (its pid is the first thread's)");
  } else if (!process_.command_line.empty()) {
    gaps_.push_back(
        "the command line is NT_PRPSINFO's psargs: argv joined with spaces and cut to 79 bytes, split back at every "
        "space (an argument with a space in it becomes two)");
  }
  if (!have_auxv) gaps_.push_back("no NT_AUXV: no auxiliary vector, no [vdso], no executable path");
  if (!have_file) gaps_.push_back("no NT_FILE: mappings without file names, no modules");
  if (threads_.empty()) problems_.push_back("no NT_PRSTATUS: the core lists no thread");
  // The main thread is named as the process; the kernel keeps no other thread's name in a core.
  for (ThreadState& t : threads_) {
    if (t.tid == process_.pid) t.name = process_.name;
  }
  gaps_.push_back("no thread names but the main thread's (the process's name): a core does not carry them");
  gaps_.push_back("no process CPU times (the threads' are in their NT_PRSTATUS)");
}

// NT_FILE: a count, a page size, {start, end, offset in pages} per file, then their names.
void CoreView::read_file_note(const CoreNote& n) {
  if (n.desc.size() < 16) {
    problems_.push_back(fmt::format("NT_FILE note ({} bytes): too small for its count and page size; skipped", n.desc.size()));
    return;
  }
  uint64_t count = 0, page = 0;
  std::memcpy(&count, n.desc.data(), 8);
  std::memcpy(&page, n.desc.data() + 8, 8);
  if (page == 0 || (page & (page - 1)) != 0 || page > (uint64_t{1} << 30)) {
    problems_.push_back(fmt::format("NT_FILE note: page size {} is not a power of two; skipped", page));
    return;
  }
  uint64_t fit = (n.desc.size() - 16) / 24;
  if (count > fit) {
    problems_.push_back(fmt::format("NT_FILE: {} files declared, {} fit in the note", count, fit));
    count = fit;
  }
  std::string_view names(reinterpret_cast<const char*>(n.desc.data()) + 16 + count * 24, n.desc.size() - 16 - count * 24);
  size_t unnamed = 0, impossible = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t words[3];
    std::memcpy(words, n.desc.data() + 16 + i * 24, sizeof words);
    size_t nul = names.find('\0');
    if (nul == std::string_view::npos) {
      unnamed = count - i;
      break;
    }
    std::string path(names.substr(0, nul));
    names.remove_prefix(nul + 1);
    if (words[0] >= words[1] || words[2] > UINT64_MAX / page) {
      ++impossible;
      continue;
    }
    files_.push_back({words[0], words[1], words[2] * page, std::move(path)});
  }
  if (unnamed > 0) problems_.push_back(fmt::format("NT_FILE: the last {} files have no name in the note: left out", unnamed));
  if (impossible > 0) problems_.push_back(fmt::format("NT_FILE: {} entries with an empty range or an impossible offset: left out", impossible));
  std::stable_sort(files_.begin(), files_.end(), [](const FileEntry& a, const FileEntry& b) { return a.start < b.start; });
}

void CoreView::read_mappings(const CoreFile& core) {
  uint64_t vdso = 0, phdr = 0, entry = 0;
  for (size_t at = 0; at + 16 <= process_.auxv.size(); at += 16) {
    uint64_t pair[2];
    std::memcpy(pair, process_.auxv.data() + at, sizeof pair);
    if (pair[0] == AT_SYSINFO_EHDR) vdso = pair[1];
    if (pair[0] == AT_PHDR) phdr = pair[1];
    if (pair[0] == AT_ENTRY) entry = pair[1];
  }
  uint64_t not_in_file = 0;
  size_t partly = 0;
  for (const CoreLoad& l : core.loads) {
    if (l.file_size < l.end - l.start) not_in_file += l.end - l.start - l.file_size, ++partly;
    // One mapping per PT_LOAD, cut where NT_FILE's files begin and end inside it.
    uint64_t at = l.start;
    auto file = std::upper_bound(files_.begin(), files_.end(), at, [](uint64_t a, const FileEntry& f) { return a < f.start; });
    if (file != files_.begin() && std::prev(file)->end > at) --file;
    while (at < l.end) {
      Mapping m;
      m.start = at;
      m.prot = prot_of(l.flags);
      if (file != files_.end() && file->start <= at) {
        m.end = std::min(file->end, l.end);
        m.path = file->path;
        m.file_offset = file->offset + (at - file->start);
      } else {
        m.end = file != files_.end() ? std::min(file->start, l.end) : l.end;
      }
      if (m.start == vdso && m.path.empty()) m.path = "[vdso]";
      at = m.end;
      while (file != files_.end() && file->end <= at) ++file;
      mappings_.push_back(std::move(m));
    }
  }
  for (uint64_t address : {phdr, entry}) {
    auto f = std::find_if(files_.begin(), files_.end(), [&](const FileEntry& e) { return address >= e.start && address < e.end; });
    if (address != 0 && f != files_.end() && process_.image_path.empty()) process_.image_path = f->path;
  }
  if (process_.name.empty() && !process_.image_path.empty()) {
    process_.name = process_.image_path.substr(process_.image_path.rfind('/') + 1).substr(0, 15);
  }
  gaps_.push_back(
      "no shared or private flag, no MADV_DONTDUMP marks, no device or inode numbers for the mappings: a core's "
      "PT_LOADs carry addresses and protection, its NT_FILE note file names and offsets");
  if (partly > 0) {
    gaps_.push_back(fmt::format("{} bytes of {} mappings are not in the core (its writer left them out, as the kernel "
                                "does for file pages never written): they cannot be read",
                                not_in_file, partly));
  }
}

void CoreView::find_modules() {
  uint8_t magic[SELFMAG];
  auto elf_at = [&](uint64_t address) { return read_memory(address, magic) == SELFMAG && std::memcmp(magic, ELFMAG, SELFMAG) == 0; };
  // In address order: a file's entry at offset 0 that starts with an ELF header begins a module,
  // and the same file's later entries (its data, its relro) extend it until the file is mapped
  // again from offset 0. One pass, so that a hostile NT_FILE of many entries costs n log n.
  std::map<std::string_view, size_t> open;  // path -> the module its entries extend
  for (const FileEntry& f : files_) {
    if (f.offset == 0) {
      open.erase(f.path);
      if (!elf_at(f.start)) continue;
      open[f.path] = modules_.size();
      modules_.push_back({f.start, f.end - f.start, f.path, {}, ""});
    } else if (auto it = open.find(f.path); it != open.end()) {
      Module& m = modules_[it->second];
      m.size = std::max(m.size, f.end - m.base);
    }
  }
  auto vdso = std::find_if(mappings_.begin(), mappings_.end(), [](const Mapping& m) { return m.path == "[vdso]"; });
  if (vdso != mappings_.end() && elf_at(vdso->start)) modules_.push_back({vdso->start, vdso->end - vdso->start, vdso->path, {}, ""});
  std::sort(modules_.begin(), modules_.end(), [](const Module& a, const Module& b) { return a.base < b.base; });
  // Disjoint, as libdwfl wants them: a module ends where the next one begins.
  for (size_t i = 0; i + 1 < modules_.size(); ++i) {
    modules_[i].size = std::min(modules_[i].size, modules_[i + 1].base - modules_[i].base);
  }
  for (Module& m : modules_) m.build_id = mapped_build_id(*this, m.base);
}

size_t CoreView::read_memory(uint64_t address, std::span<uint8_t> out) const {
  size_t done = 0;
  auto load = std::upper_bound(loads_.begin(), loads_.end(), address, [](uint64_t a, const CoreLoad& l) { return a < l.start; });
  if (load == loads_.begin()) return 0;
  --load;
  while (done < out.size() && load != loads_.end()) {
    uint64_t at = address + done;
    if (at < load->start || at - load->start >= load->in_file) break;
    uint64_t inside = at - load->start;
    size_t n = static_cast<size_t>(std::min<uint64_t>(out.size() - done, load->in_file - inside));
    std::memcpy(out.data() + done, file_.data() + load->offset + inside, n);
    done += n;
    ++load;  // the next PT_LOAD, if it goes on where this one ends
  }
  return done;
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> CoreView::held(uint64_t start, uint64_t end) const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const CoreLoad& l : loads_) {
    uint64_t lo = std::max(l.start, start), hi = std::min(l.start + l.in_file, end);
    if (lo >= hi) continue;
    if (!out.empty() && out.back().second == lo) {
      out.back().second = hi;
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

}  // namespace snapdump::view
