// Parsers for the socket tables under /proc/PID/net (formats from net/ipv4/tcp_ipv4.c,
// net/ipv6/tcp_ipv6.c, net/unix/af_unix.c and net/netlink/af_netlink.c).
#include "common/records_in.h"
#include "linux/socket_table.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "linux/text_buffer.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

// The first tokens of a table line, enough for every column parsed here; no per-line
// allocation, as the tables can hold thousands of lines.
struct Tokens {
  static constexpr size_t kMax = 10;
  std::string_view at[kMax];
  size_t count = 0;

  explicit Tokens(std::string_view line) {
    while (count < kMax) {
      std::string_view token = text::next_token(line);
      if (token.empty()) return;
      at[count++] = token;
    }
  }
};

// A SocketInfo whose strings use the table's allocator.
SocketInfo new_socket(const SocketTable& table) {
  return socket_info_in(table.get_allocator().resource());
}

// Move-constructs into the table, which keeps the strings' allocator; assigning over an entry
// of operator[] would copy them into the default resource.
void put(SocketTable& table, SocketInfo&& info) {
  table.erase(info.inode);
  table.try_emplace(info.inode, std::move(info));
}

template <typename... Args>
void assign_format(std::pmr::string& out, const char* format, Args... args) {
  char buffer[80];
  int n = std::snprintf(buffer, sizeof buffer, format, args...);
  out.assign(buffer, n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof buffer - 1));
}

// "0100007F:1F90" or the 32-hex-digit IPv6 form. The kernel prints each 32-bit word of the
// address as a native-endian number, so copying the parsed words back as native memory gives
// the address bytes in network order on any host.
bool parse_inet_endpoint(std::string_view text, int family, std::pmr::string& address,
                         uint16_t& port) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  auto port_value = text::parse_u64(text.substr(colon + 1), 16);
  size_t words = family == AF_INET6 ? 4 : 1;
  if (!port_value || *port_value > 0xffff || host.size() != words * 8) return false;
  unsigned char bytes[16] = {};
  for (size_t i = 0; i < words; ++i) {
    auto word = text::parse_u64(host.substr(i * 8, 8), 16);
    if (!word) return false;
    uint32_t native = static_cast<uint32_t>(*word);
    std::memcpy(bytes + i * 4, &native, 4);
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, bytes, buffer, sizeof buffer) == nullptr) return false;
  port = static_cast<uint16_t>(*port_value);
  assign_format(address, family == AF_INET6 ? "[%s]:%u" : "%s:%u", buffer, unsigned{port});
  return true;
}

void assign_unix_state_name(unsigned state, uint64_t flags, std::pmr::string& out) {
  // __SO_ACCEPTCON: the socket called listen().
  if (flags & 0x10000) return void(out.assign("LISTEN"));
  switch (state) {
    case 1: return void(out.assign("UNCONNECTED"));
    case 2: return void(out.assign("CONNECTING"));
    case 3: return void(out.assign("CONNECTED"));
    case 4: return void(out.assign("DISCONNECTING"));
    default: return assign_format(out, "UNKNOWN(%u)", state);
  }
}

}  // namespace

void assign_tcp_state_name(unsigned state, std::pmr::string& out) {
  static constexpr const char* kNames[] = {
      nullptr,     "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
      "CLOSE",     "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
  };
  if (state > 0 && state < std::size(kNames)) return void(out.assign(kNames[state]));
  assign_format(out, "UNKNOWN(%02X)", state);
}

void parse_inet_sockets(std::string_view text, int family, int type, int protocol,
                        SocketTable& table) {
  while (!text.empty()) {
    // "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 12345 ..."
    Tokens line(text::next_line(text));
    const std::string_view* t = line.at;
    if (line.count < 10 || t[0].empty() || t[0].back() != ':') continue;  // header or junk
    auto inode = text::parse_u64(t[9]);
    auto state = text::parse_u64(t[3], 16);
    if (!inode || !state || *inode == 0) continue;
    SocketInfo info = new_socket(table);
    info.family = family;
    info.type = type;
    info.protocol = protocol;
    info.inode = *inode;
    uint16_t local_port = 0, remote_port = 0;
    if (!parse_inet_endpoint(t[1], family, info.local_address, local_port) ||
        !parse_inet_endpoint(t[2], family, info.remote_address, remote_port)) {
      continue;
    }
    if (type == SOCK_RAW) {
      info.protocol = local_port;
    }
    assign_tcp_state_name(static_cast<unsigned>(*state), info.state);
    put(table, std::move(info));
  }
}

void parse_unix_sockets(std::string_view text, SocketTable& table) {
  while (!text.empty()) {
    // "000000004c413e51: 00000003 00000000 00010000 0001 01 12345 /run/x.sock"
    std::string_view rest = text::next_line(text);
    std::string_view slot = text::next_token(rest);
    if (slot.empty() || slot.back() != ':') continue;  // the "Num RefCount ..." header
    text::next_token(rest);                             // RefCount
    text::next_token(rest);                             // Protocol (always 0)
    auto flags = text::parse_u64(text::next_token(rest), 16);
    auto type = text::parse_u64(text::next_token(rest), 16);
    auto state = text::parse_u64(text::next_token(rest), 16);
    auto inode = text::parse_u64(text::next_token(rest));
    if (!flags || !type || !state || !inode || *inode == 0) continue;
    SocketInfo info = new_socket(table);
    info.family = AF_UNIX;
    info.type = static_cast<int>(*type);
    info.inode = *inode;
    assign_unix_state_name(static_cast<unsigned>(*state), *flags, info.state);
    // The path is the rest of the line (it may hold spaces); abstract names already start
    // with '@'.
    while (!rest.empty() && text::is_space(rest.front())) rest.remove_prefix(1);
    info.local_address.assign(rest);
    put(table, std::move(info));
  }
}

void parse_netlink_sockets(std::string_view text, SocketTable& table) {
  while (!text.empty()) {
    // "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode"
    Tokens line(text::next_line(text));
    const std::string_view* t = line.at;
    if (line.count < 10) continue;
    auto protocol = text::parse_u64(t[1]);
    auto port_id = text::parse_u64(t[2]);
    auto inode = text::parse_u64(t[9]);
    if (!protocol || !port_id || !inode || *inode == 0) continue;  // the header fails here
    SocketInfo info = new_socket(table);
    info.family = AF_NETLINK;
    info.protocol = static_cast<int>(*protocol);
    info.inode = *inode;
    // The port id is a netlink socket's address.
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, *port_id);
    info.local_address.assign(digits, ec == std::errc() ? end : digits);
    put(table, std::move(info));
  }
}

bool socket_from_protocol_name(std::string_view name, SocketInfo& info) {
  struct Known { std::string_view name; int family, type, protocol; };
  static constexpr Known kKnown[] = {
      {"TCP", AF_INET, SOCK_STREAM, IPPROTO_TCP},
      {"TCPv6", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
      {"UDP", AF_INET, SOCK_DGRAM, IPPROTO_UDP},
      {"UDPv6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
      {"UDP-Lite", AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE},
      {"UDPLITEv6", AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE},
      {"PING", AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
      {"PINGv6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
      {"RAW", AF_INET, SOCK_RAW, 0},
      {"RAWv6", AF_INET6, SOCK_RAW, 0},
      {"MPTCP", AF_INET, SOCK_STREAM, IPPROTO_MPTCP},
      {"SCTP", AF_INET, SOCK_STREAM, IPPROTO_SCTP},
      {"SCTPv6", AF_INET6, SOCK_STREAM, IPPROTO_SCTP},
      // The unix datagram proto also serves SOCK_SEQPACKET; datagram is the common case.
      {"UNIX", AF_UNIX, SOCK_DGRAM, 0},
      {"UNIX-STREAM", AF_UNIX, SOCK_STREAM, 0},
      {"NETLINK", AF_NETLINK, 0, 0},
      {"PACKET", AF_PACKET, 0, 0},
      {"AF_VSOCK", AF_VSOCK, 0, 0},
      {"XDP", AF_XDP, SOCK_RAW, 0},
      {"ALG", AF_ALG, SOCK_SEQPACKET, 0},
  };
  for (const Known& known : kKnown) {
    if (known.name != name) continue;
    info.family = known.family;
    info.type = known.type;
    info.protocol = known.protocol;
    return true;
  }
  return false;
}

void read_socket_table(pid_t pid, SocketTable& table, std::pmr::memory_resource* scratch) {
  struct InetTable { const char* name; int family, type, protocol; };
  static constexpr InetTable kInet[] = {
      {"tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP},  {"tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
      {"udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP},   {"udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
      {"raw", AF_INET, SOCK_RAW, 0},               {"raw6", AF_INET6, SOCK_RAW, 0},
  };
  TextBuffer text(scratch);
  char path[64];
  auto read = [&](const char* name) {
    std::snprintf(path, sizeof path, "/proc/%d/net/%s", static_cast<int>(pid), name);
    return text.read(path) == 0;
  };
  for (const InetTable& inet : kInet) {
    if (read(inet.name)) parse_inet_sockets(text.view(), inet.family, inet.type, inet.protocol, table);
  }
  if (read("unix")) parse_unix_sockets(text.view(), table);
  if (read("netlink")) parse_netlink_sockets(text.view(), table);
}

}  // namespace snapdump::os
