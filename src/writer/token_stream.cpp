// The Token stream (MiniDumpWithTokenInformation). A Windows token holds the identity and
// privileges a process runs with; on Linux those are its credentials: real, effective, saved and
// filesystem uids and gids, supplementary groups, the five capability sets, no_new_privs and
// the seccomp mode. They are written as the lines /proc/PID/status shows them, captured with the
// snapshot: text any reader can show, in the fields' own names, with nothing lost in a
// translation to SIDs that would mean nothing on Linux.
//
// One MINIDUMP_TOKEN_INFO_HEADER per token: TokenId 0 is the process's token (Linux has no
// token object, so no handle: TokenHandle 0). TokenSize counts the header and the data.
#include <string_view>

#include "writer/streams.h"

namespace snapdump::writer {
namespace {

constexpr std::string_view kCredentialFields[] = {
    "Uid:", "Gid:", "Groups:", "NStgid:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
    "NoNewPrivs:", "Seccomp:", "Seccomp_filters:"};

std::string credentials(std::string_view status) {
  std::string out;
  size_t at = 0;
  while (at < status.size()) {
    size_t end = status.find('\n', at);
    if (end == std::string::npos) end = status.size();
    std::string_view line(status.data() + at, end - at);
    for (std::string_view field : kCredentialFields) {
      if (line.substr(0, field.size()) == field) {
        out.append(line);
        out += '\n';
      }
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

void write_token(WriteContext& ctx) {
  std::string token = credentials(ctx.snapshot.process().status_text);
  format::TokenInfoHeader entry{};
  entry.token_size = static_cast<uint32_t>(sizeof entry + token.size());
  entry.token_id = 0;
  entry.token_handle = 0;
  format::TokenInfoListHeader list{};
  list.list_header_size = sizeof list;
  list.element_header_size = sizeof entry;
  list.token_list_entries = 1;
  list.token_list_size = static_cast<uint32_t>(sizeof list + entry.token_size);
  uint32_t rva = ctx.builder.append(list);
  ctx.builder.append(entry);
  ctx.builder.append(token.data(), token.size(), 1);
  ctx.builder.add_stream(format::StreamType::Token, rva, list.token_list_size);
}

}  // namespace snapdump::writer
