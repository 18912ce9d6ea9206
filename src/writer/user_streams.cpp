// MINIDUMP_USER_STREAM_INFORMATION: a caller's streams, written byte for byte.
#include <set>

#include <fmt/format.h>

#include "writer/streams.h"

namespace snapdump::writer {
namespace {

// The stream types a snapdump dump may contain itself. A user stream of one of these types
// would give the file two streams of one type, which LLDB refuses to load. Other standard types
// (CommentStreamA/W above all, which Windows programs commonly pass) are the caller's to use.
bool written_by_snapdump(uint32_t type) {
  using T = format::StreamType;
  for (T t : {T::ThreadList, T::ModuleList, T::MemoryList, T::Exception, T::SystemInfo, T::Memory64List,
              T::HandleData, T::MiscInfo, T::MemoryInfoList, T::ThreadInfoList, T::ThreadNames,
              T::LinuxCpuInfo, T::LinuxProcStatus, T::LinuxLsbRelease, T::LinuxCmdLine, T::LinuxEnviron,
              T::LinuxAuxv, T::LinuxMaps, T::LinuxDsoDebug, T::SnapdumpOmittedMemory}) {
    if (static_cast<uint32_t>(t) == type) return true;
  }
  return false;
}

}  // namespace

void check_user_streams(const std::vector<UserStream>& streams) {
  std::set<uint32_t> seen;
  for (const UserStream& s : streams) {
    const char* name = format::stream_type_name(s.type);
    if (s.type == 0) throw Error(Errc::invalid_argument, "user stream type 0 is UnusedStream, which readers skip");
    if (written_by_snapdump(s.type)) {
      throw Error(Errc::invalid_argument,
                  fmt::format("user stream type {:#x} ({}) is a stream snapdump writes itself", s.type, name));
    }
    if (!seen.insert(s.type).second) {
      throw Error(Errc::invalid_argument, fmt::format("two user streams of type {:#x}", s.type));
    }
    if (s.data.size() > 0xffffffffu) {
      throw Error(Errc::invalid_argument, fmt::format("user stream {:#x} is over 4 GiB", s.type));
    }
  }
}

void write_user_streams(WriteContext& ctx) {
  for (const UserStream& s : ctx.options.user_streams) {
    uint32_t rva = ctx.builder.append(s.data.data(), s.data.size());
    ctx.builder.add_stream(static_cast<format::StreamType>(s.type), rva, static_cast<uint32_t>(s.data.size()));
  }
}

}  // namespace snapdump::writer
