#include "view/snapshot_view.h"

#include <fmt/format.h>

namespace snapdump::view {

SnapshotView::SnapshotView(const Snapshot& snapshot, std::optional<Signal> signal)
    : snapshot_(snapshot), signal_(signal) {
  const ProcessInfo& p = snapshot.process();
  process_.pid = p.pid;
  process_.parent_pid = p.parent_pid;
  process_.uid = p.uid;
  process_.gid = p.gid;
  process_.name = std::string(p.name);
  process_.image_path = std::string(p.image_path);
  process_.command_line = std::string(p.cmdline_raw);
  process_.auxv.assign(p.auxv_raw.begin(), p.auxv_raw.end());
  process_.user_time_ns = p.user_time_ns;
  process_.kernel_time_ns = p.kernel_time_ns;

  if (snapshot.flags() & capture::kThreads) {
    for (const ThreadEntry& t : snapshot.threads()) {
      ThreadState s;
      s.tid = t.tid;
      s.name = std::string(t.name);
      s.regs = t.regs;
      // A thread left running or gone has no full context: its FXSAVE area is not known.
      if (t.capture == ThreadCapture::stopped && (t.context_flags & context::kFloatingPoint) == context::kFloatingPoint) s.fpregs = t.fpregs;
      s.xsave.assign(t.xsave.begin(), t.xsave.end());
      s.user_time_ns = t.user_time_ns;
      s.kernel_time_ns = t.kernel_time_ns;
      threads_.push_back(std::move(s));
    }
  }
  for (const Region& r : snapshot.memory_map()) {
    Mapping m;
    m.start = r.start;
    m.end = r.end;
    m.prot = r.prot;
    m.shared = r.shared;
    m.file_offset = r.file_offset;
    m.dev_major = r.dev_major;
    m.dev_minor = r.dev_minor;
    m.inode = r.inode;
    m.path = std::string(r.path);
    m.dont_dump = r.dont_dump;
    m.io = r.io;
    mappings_.push_back(std::move(m));
    if (r.elf) {
      Module mod;
      mod.base = r.elf->load_address;
      mod.size = r.elf->image_size;
      mod.path = std::string(r.path);
      mod.build_id.assign(r.elf->build_id.begin(), r.elf->build_id.end());
      mod.soname = std::string(r.elf->soname);
      modules_.push_back(std::move(mod));
    }
  }
}

size_t SnapshotView::read_memory(uint64_t address, std::span<uint8_t> out) const {
  return snapshot_.read_memory(address, out);
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> SnapshotView::populated(uint64_t start, uint64_t end) const {
  return snapshot_.populated(start, end);
}

std::vector<std::string> SnapshotView::gaps() const {
  std::vector<std::string> out;
  out.push_back("no signal masks: the capture does not read them");
  if (!(snapshot_.flags() & capture::kThreads)) out.push_back("no threads: the capture did not ask for them");
  return out;
}

}  // namespace snapdump::view
