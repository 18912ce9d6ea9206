#include "writer/core/core_writer.h"

#include <elf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/error.h"
#include "writer/core/core_notes.h"
#include "writer/write_front_order.h"

namespace snapdump::writer::core {
namespace {

constexpr uint64_t kChunk = Sink::kBulkChunk;

// The threads that go into the core: those with registers, as IncludeThreadCallback lets them.
std::vector<const view::ThreadState*> included_threads(const view::ProcessView& view, Steering& steering) {
  std::vector<const view::ThreadState*> out;
  for (const view::ThreadState& t : view.threads()) {
    if (t.exited) continue;
    ThreadWriteFlags flags = thread_write::kThread | thread_write::kStack | thread_write::kContext;
    if (!steering->include_thread(static_cast<uint32_t>(t.tid), flags) || !(flags & thread_write::kThread)) continue;
    out.push_back(&t);
  }
  return out;
}

// The file's front: ELF header, program headers, the extended-numbering section header if any.
std::vector<uint8_t> headers(const std::vector<Segment>& segments, uint64_t notes_offset, uint64_t notes_size,
                             uint64_t data_offset) {
  uint64_t phnum = segments.size() + 1;
  bool extended = phnum >= PN_XNUM;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = extended ? PN_XNUM : static_cast<Elf64_Half>(phnum);
  if (extended) {
    eh.e_shoff = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
    eh.e_shstrndx = SHN_UNDEF;
  }
  std::vector<uint8_t> out(sizeof eh);
  std::memcpy(out.data(), &eh, sizeof eh);
  auto put_phdr = [&out](const Elf64_Phdr& ph) {
    const auto* p = reinterpret_cast<const uint8_t*>(&ph);
    out.insert(out.end(), p, p + sizeof ph);
  };
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = notes_offset;
  note.p_filesz = notes_size;
  note.p_align = 4;
  put_phdr(note);
  uint64_t offset = data_offset;
  for (const Segment& s : segments) {
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_flags = s.flags;
    ph.p_offset = offset;
    ph.p_vaddr = s.start;
    ph.p_filesz = s.file_size;
    ph.p_memsz = s.end - s.start;
    // A minidump's ranges start anywhere (a stack from its stack pointer): such a segment cannot
    // claim page alignment.
    ph.p_align = s.start % kPageSize == 0 && offset % kPageSize == 0 ? kPageSize : 1;
    put_phdr(ph);
    offset += s.file_size;
  }
  if (extended) {
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(std::min<uint64_t>(phnum, UINT32_MAX));
    const auto* p = reinterpret_cast<const uint8_t*>(&sh);
    out.insert(out.end(), p, p + sizeof sh);
  }
  return out;
}

// One memory read with the Vm callbacks around it, as the minidump writer's MemoryReader does.
size_t read_once(const view::ProcessView& view, Steering& steering, bool vm, uint64_t address, std::span<uint8_t> out) {
  size_t done = 0;
  int error = 0;
  if (vm) {
    VmReadAnswer pre = steering->vm_pre_read(address, out);
    done = std::min(pre.completed, out.size());
    error = pre.error;
  }
  if (error == 0 && done < out.size()) {
    done += view.read_memory(address + done, out.subspan(done));
    if (done < out.size()) error = EFAULT;
  }
  if (vm) {
    VmReadAnswer post = steering->vm_post_read(address, out, done, error);
    done = std::min(post.completed, out.size());
  }
  return done;
}

class SegmentWriter {
 public:
  SegmentWriter(const view::ProcessView& view, const CoreWriteOptions& options, Steering& steering, Sink& sink,
                CoreWriteResult& result)
      : view_(view), options_(options), steering_(steering), sink_(sink), result_(result), vm_(steering->vm_start()) {}

  // Bytes [from, to) of segment `s`, whose bytes start at `file_offset` in the file. In order
  // (`positional` false) each call continues where the sink ends; positional calls write at
  // their own offsets, holes left unwritten (a sparse file of our own).
  void write(const Segment& s, uint64_t file_offset, uint64_t from, uint64_t to, bool positional) {
    positional_ = positional;
    pos_ = file_offset + (from - s.start);
    uint64_t end = to;
    std::optional<std::vector<std::pair<uint64_t, uint64_t>>> runs = view_.populated(from, end);
    uint64_t at = from;
    auto each = [&](uint64_t lo, uint64_t hi) {
      lo = std::clamp(lo, at, end);
      hi = std::clamp(hi, lo, end);
      if (lo > at) hole(lo - at);
      data(lo, hi);
      at = std::max(at, hi);
    };
    if (runs) {
      for (const auto& [lo, hi] : *runs) each(lo, hi);
    } else {
      each(from, end);
    }
    if (end > at) hole(end - at);
    result_.memory_bytes += to - from;
  }

  // Where the last byte written ends in the file: a file whose end is a hole needs its last
  // byte written to have its full size.
  uint64_t data_end() const { return data_end_; }

 private:
  void hole(uint64_t bytes) {
    if (!positional_) sink_.skip(bytes);
    pos_ += bytes;
    result_.hole_bytes += bytes;
  }

  // Reads [lo, hi) a chunk at a time into bulk buffers; unreadable pages become zeros (in a
  // chunk that has data) and are counted.
  void data(uint64_t lo, uint64_t hi) {
    while (lo < hi) {
      steering_.check_cancel("writing the core's memory");
      size_t n = static_cast<size_t>(std::min<uint64_t>(hi - lo, kChunk));
      // The buffer append_bulk handed back is the next chunk's: a fresh 4 MiB buffer per chunk
      // costs a page fault per page and an munmap (five times the write's time on a VM).
      BulkBuffer buffer = spare_.data() != nullptr ? std::move(spare_) : sink_.bulk_buffer();
      std::span<uint8_t> out(buffer.data(), n);
      size_t filled = 0;
      while (filled < n) {
        size_t got = read_once(view_, steering_, vm_, lo + filled, out.subspan(filled));
        filled += got;
        if (filled >= n) break;
        // The page that failed, from where the read stopped, is zeros: then try the next page.
        uint64_t next_page = (lo + filled + kPageSize) & ~(kPageSize - 1);
        size_t skip = static_cast<size_t>(std::min<uint64_t>(next_page - (lo + filled), n - filled));
        std::memset(out.data() + filled, 0, skip);
        result_.unreadable_bytes += skip;
        filled += skip;
      }
      spare_ = positional_ ? sink_.write_bulk_at(pos_, std::move(buffer), n) : sink_.append_bulk(std::move(buffer), n);
      if (options_.release_written_memory) view_.release_memory(lo, lo + n);
      lo += n;
      pos_ += n;
      data_end_ = std::max(data_end_, pos_);
    }
  }

  const view::ProcessView& view_;
  const CoreWriteOptions& options_;
  Steering& steering_;
  Sink& sink_;
  CoreWriteResult& result_;
  bool vm_;
  bool positional_ = false;
  uint64_t pos_ = 0, data_end_ = 0;
  BulkBuffer spare_;
};

// A part of a segment to write: segments[index]'s bytes [start, end).
struct SegmentPart {
  size_t index = 0;
  uint64_t start = 0, end = 0;
};

// The segments' bytes in the order to write them (write_front_order.h): address order, or with
// `follow` from where a running target writes its private anonymous memory in sequence. `front`
// is where they begin then, 0 in address order.
std::vector<SegmentPart> write_order(const view::ProcessView& view, const std::vector<Segment>& segments, bool follow,
                                     uint64_t& front) {
  std::vector<SegmentPart> parts;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].file_size > 0) parts.push_back({i, segments[i].start, segments[i].start + segments[i].file_size});
  }
  front = 0;
  if (!follow) return parts;
  // The private anonymous memory the clone shares: the only place a write front shows.
  std::vector<std::pair<uint64_t, uint64_t>> candidates;
  auto maps = view.mappings();
  for (const SegmentPart& p : parts) {
    auto m = std::upper_bound(maps.begin(), maps.end(), p.start, [](uint64_t a, const view::Mapping& x) { return a < x.start; });
    if (m == maps.begin()) continue;
    --m;
    if (p.start < m->end && !m->shared && m->inode == 0) candidates.emplace_back(p.start, p.end);
  }
  std::optional<uint64_t> at =
      look_for_write_front([&](auto ranges, uint64_t pages) { return view.write_front(ranges, pages); }, candidates);
  if (at) front = start_at_write_front(parts, *at);
  return parts;
}

}  // namespace

CoreWriteResult write_core(const view::ProcessView& view, const CoreWriteOptions& options, Steering& steering,
                           const CoreSink& choice) {
  std::optional<view::Signal> signal = options.signal ? options.signal : view.signal();
  std::vector<const view::ThreadState*> threads =
      ordered_threads(included_threads(view, steering), view.process().pid, signal);
  if (threads.empty()) throw Error(Errc::invalid_argument, "no thread is left for the core (gdb opens no core without one)");
  std::vector<uint8_t> notes = build_notes(view, threads, signal);
  std::vector<Segment> segments = plan_segments(view, options.selection, steering);
  steering.check_cancel("planning the core");

  uint64_t phnum = segments.size() + 1;
  uint64_t notes_offset = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr) + (phnum >= PN_XNUM ? sizeof(Elf64_Shdr) : 0);
  uint64_t data_offset = (notes_offset + notes.size() + kPageSize - 1) & ~(kPageSize - 1);
  std::vector<uint8_t> front = headers(segments, notes_offset, notes.size(), data_offset);
  front.insert(front.end(), notes.begin(), notes.end());
  front.resize(data_offset, 0);
  // A file becomes an ELF file only when whole: its magic is written last. A stream cannot be
  // patched, so it gets the finished header (a cut stream is a truncated core, which readers
  // report as such).
  uint8_t magic[SELFMAG];
  std::memcpy(magic, front.data(), SELFMAG);
  if (!choice.forward_only) std::memset(front.data(), 0, SELFMAG);

  CoreWriteResult result;
  result.threads = static_cast<uint32_t>(threads.size());
  result.segments = static_cast<uint32_t>(segments.size());
  std::unique_ptr<Sink> sink = choice.open();
  sink->append(front);
  sink->align_for_bulk();
  SegmentWriter writer(view, options, steering, *sink, result);
  // Each segment's bytes start where the one before it ends, from data_offset on.
  std::vector<uint64_t> offsets(segments.size());
  uint64_t file_end = data_offset;
  for (size_t i = 0; i < segments.size(); ++i) offsets[i] = file_end, file_end += segments[i].file_size;
  // Out of order only into a file of our own: a stream takes its bytes in order, and a caller's
  // file or IoWriteAll gets zeros for holes, which only the in-order pass writes.
  bool positional = options.release_written_memory && options.follow_write_front && !choice.forward_only && sink->sparse();
  std::vector<SegmentPart> parts = write_order(view, segments, positional, result.write_front);
  positional = result.write_front != 0;
  for (const SegmentPart& p : parts) {
    const Segment& s = segments[p.index];
    writer.write(s, offsets[p.index], p.start, p.end, positional);
  }
  if (options.release_written_memory) view.release_memory(0, 0);  // the last batch
  // A file that ends in a hole needs its last byte written to have its full size.
  if (sink->sparse() && std::max(writer.data_end(), data_offset) < file_end) {
    static constexpr uint8_t kZero = 0;
    sink->write_at(file_end - 1, std::span<const uint8_t>(&kZero, 1));
  }
  steering.check_cancel("finishing the core");
  if (choice.before_seal) choice.before_seal();
  if (!choice.forward_only) sink->write_at(0, std::span<const uint8_t>(magic, SELFMAG));
  result.bytes = sink->size();
  result.sparse = sink->sparse();
  sink->commit();
  result.direct_io_bytes = sink->direct_bytes();
  return result;
}

}  // namespace snapdump::writer::core
