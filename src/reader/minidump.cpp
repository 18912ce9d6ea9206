// Minidump: getting the bytes (a mapped file or a vector), the header and directory checks that decide
// whether the file is a minidump at all, and the accessors over the one-time parse.

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/mapped_file.h"
#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader {

namespace {

using detail::Bytes;

// The header and directory: an error only when nothing of the file can be trusted; a damaged
// directory keeps the entries that can still be read.
void read_directory(detail::Parsed& p, detail::Problems& problems) {
  auto header = detail::load<format::Header>(p.file, 0);
  if (!header) {
    std::string sig;
    if (p.file.size() >= 4) {
      uint32_t s;
      std::memcpy(&s, p.file.data(), 4);
      if (s != format::kSignature) {
        throw Error(Errc::corrupt_input,
                    fmt::format("not a minidump: signature {:#010x}, expected {:#010x} ('MDMP')", s,
                                format::kSignature));
      }
    }
    throw Error(Errc::corrupt_input,
                fmt::format("not a minidump: {} bytes, too small for the {}-byte header",
                            p.file.size(), sizeof(format::Header)));
  }
  if (header->signature != format::kSignature) {
    throw Error(Errc::corrupt_input,
                fmt::format("not a minidump: signature {:#010x}, expected {:#010x} ('MDMP')",
                            header->signature, format::kSignature));
  }
  if ((header->version & 0xFFFF) != format::kVersion) {
    throw Error(Errc::corrupt_input,
                fmt::format("minidump version {:#06x} is not MINIDUMP_VERSION {:#06x}",
                            header->version & 0xFFFF, format::kVersion));
  }
  p.header = *header;
  if (header->number_of_streams == 0) return;
  if (header->stream_directory_rva >= p.file.size()) {
    throw Error(Errc::corrupt_input,
                fmt::format("stream directory RVA {:#x} is outside the file ({} bytes)",
                            header->stream_directory_rva, p.file.size()));
  }
  const uint64_t available =
      (p.file.size() - header->stream_directory_rva) / sizeof(format::Directory);
  uint64_t count = header->number_of_streams;
  if (count > available) {
    problems.add(fmt::format("directory: {} streams declared but only {} entries fit in the file",
                             count, available));
    count = available;
  }
  std::set<uint32_t> seen;
  for (uint64_t i = 0; i < count; ++i) {
    auto d = detail::load<format::Directory>(
        p.file, header->stream_directory_rva + i * sizeof(format::Directory));
    if (!d) break;  // cannot happen: count was bounded above
    // Writers reserve directory slots and leave unused ones as type Unused. Any other entry is a
    // stream, even an empty one (a caller's user stream may be): LLDB sees it that way too.
    if (d->stream_type == static_cast<uint32_t>(format::StreamType::Unused)) continue;
    const std::string name = detail::stream_name(d->stream_type);
    p.streams.push_back({d->stream_type, name, d->location.data_size, d->location.rva});
    auto bytes = detail::slice(p.file, d->location.rva, d->location.data_size);
    if (!bytes) {
      problems.add(fmt::format("directory entry {} ({}): {} bytes at RVA {:#x} outside the file", i,
                               name, d->location.data_size, d->location.rva));
      continue;
    }
    // Several Exception streams are legal; any other duplicate makes LLDB reject the file.
    if (d->stream_type != static_cast<uint32_t>(format::StreamType::Exception) &&
        !seen.insert(d->stream_type).second) {
      problems.add(fmt::format("directory entry {}: duplicate {} stream; the first one is used", i,
                               name));
      continue;
    }
    p.valid_streams.emplace_back(d->stream_type, *bytes);
  }
}

std::shared_ptr<const detail::Parsed> parse(std::shared_ptr<const void> storage, Bytes file) {
  auto p = std::make_shared<detail::Parsed>();
  p->storage = std::move(storage);
  p->file = file;
  detail::Problems problems;
  read_directory(*p, problems);
  if (auto truncated = truncation_problem(*p)) problems.add(std::move(*truncated));
  detail::Context ctx{p->file, p->valid_streams, &problems, std::nullopt};
  p->system_info = detail::parse_system_info(ctx);
  if (p->system_info) ctx.architecture = p->system_info->architecture;
  p->misc_info = detail::parse_misc_info(ctx);
  p->threads = detail::parse_threads(ctx);
  p->modules = detail::parse_modules(ctx);
  p->unloaded_modules = detail::parse_unloaded_modules(ctx);
  p->memory = detail::parse_memory(ctx);
  for (const MemoryRange& r : p->memory) {
    const uint64_t end = r.bytes.size() > UINT64_MAX - r.address ? UINT64_MAX : r.address + r.bytes.size();
    p->memory_reach.push_back(p->memory_reach.empty() ? end : std::max(p->memory_reach.back(), end));
  }
  p->memory_info = detail::parse_memory_info(ctx);
  p->handles = detail::parse_handles(ctx);
  p->tokens = detail::parse_tokens(ctx);
  p->dso_debug = detail::parse_dso_debug(ctx);
  p->exceptions = detail::parse_exceptions(ctx);
  p->problems = problems.take();
  return p;
}

}  // namespace

Minidump::Minidump(std::shared_ptr<const detail::Parsed> parsed) : p_(std::move(parsed)) {}

Minidump Minidump::open(const std::string& path) {
  MappedFile file = map_file(path, "a minidump");
  try {
    return Minidump(parse(file.storage, Bytes(file.bytes.data(), file.bytes.size())));
  } catch (const Error& e) {
    if (e.code() != Errc::corrupt_input) throw;
    throw Error(Errc::corrupt_input, fmt::format("{}: {}", path, e.what()));
  }
}

Minidump Minidump::from_bytes(std::vector<uint8_t> bytes) {
  if (bytes.empty()) throw Error(Errc::corrupt_input, "empty input: not a minidump");
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  Bytes file(owned->data(), owned->size());
  return Minidump(parse(owned, file));
}

const format::Header& Minidump::header() const { return p_->header; }
const std::vector<StreamEntry>& Minidump::streams() const { return p_->streams; }
const std::vector<std::string>& Minidump::problems() const { return p_->problems; }

std::optional<std::span<const uint8_t>> Minidump::stream(uint32_t type) const {
  for (const auto& [t, bytes] : p_->valid_streams) {
    if (t == type) return bytes;
  }
  return std::nullopt;
}

std::optional<SystemInfoView> Minidump::system_info() const { return p_->system_info; }
std::optional<MiscInfoView> Minidump::misc_info() const { return p_->misc_info; }
std::vector<ThreadView> Minidump::threads() const { return p_->threads; }
std::vector<ModuleView> Minidump::modules() const { return p_->modules; }
std::vector<UnloadedModuleView> Minidump::unloaded_modules() const { return p_->unloaded_modules; }
std::vector<MemoryRange> Minidump::memory() const { return p_->memory; }
std::vector<MemoryInfoView> Minidump::memory_info() const { return p_->memory_info; }
std::vector<HandleView> Minidump::handles() const { return p_->handles; }
std::vector<TokenView> Minidump::tokens() const { return p_->tokens; }
std::optional<DsoDebugView> Minidump::dso_debug() const { return p_->dso_debug; }
std::vector<ExceptionView> Minidump::exceptions() const { return p_->exceptions; }

size_t Minidump::read_memory(uint64_t address, std::span<uint8_t> out) const {
  const auto& ranges = p_->memory;
  size_t copied = 0;
  while (copied < out.size()) {
    const uint64_t cur = address + copied;
    if (cur < address) break;  // wrapped past the top of the address space
    // The last range starting at or below cur that holds it; ranges are sorted by address, and
    // one may end before cur while an earlier, longer one still holds it (a full dump's stacks
    // are in the MemoryList and inside their regions' Memory64List ranges). memory_reach says
    // when no earlier range reaches cur, so the walk back stops there.
    auto it = std::upper_bound(ranges.begin(), ranges.end(), cur,
                               [](uint64_t a, const MemoryRange& r) { return a < r.address; });
    size_t i = static_cast<size_t>(it - ranges.begin());
    while (i > 0 && p_->memory_reach[i - 1] > cur && cur - ranges[i - 1].address >= ranges[i - 1].bytes.size()) --i;
    if (i == 0 || p_->memory_reach[i - 1] <= cur) break;
    it = ranges.begin() + static_cast<ptrdiff_t>(i - 1);
    const uint64_t offset = cur - it->address;
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(it->bytes.size() - offset, out.size() - copied));
    std::memcpy(out.data() + copied, it->bytes.data() + offset, n);
    copied += n;
  }
  return copied;
}

std::optional<std::string> Minidump::text_stream(uint32_t type) const {
  using format::StreamType;
  auto bytes = stream(type);
  if (!bytes) return std::nullopt;
  switch (static_cast<StreamType>(type)) {
    case StreamType::LinuxCpuInfo:
    case StreamType::LinuxProcStatus:
    case StreamType::LinuxLsbRelease:
    case StreamType::LinuxCmdLine:
    case StreamType::LinuxEnviron:
    case StreamType::LinuxMaps:
    case StreamType::SnapdumpOmittedMemory:
      return std::string(bytes->begin(), bytes->end());
    case StreamType::CommentA: {
      auto end = std::find(bytes->begin(), bytes->end(), uint8_t{0});
      return std::string(bytes->begin(), end);
    }
    case StreamType::CommentW: {
      auto text = detail::utf16le_to_utf8(*bytes);
      if (auto nul = text.find('\0'); nul != std::string::npos) text.resize(nul);
      return text;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace snapdump::reader
