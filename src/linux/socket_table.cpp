// Parsers for the socket tables under /proc/PID/net (formats from net/ipv4/tcp_ipv4.c,
// net/ipv6/tcp_ipv6.c, net/unix/af_unix.c and net/netlink/af_netlink.c).
#include "linux/socket_table.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "linux/procfs.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> tokens;
  while (true) {
    std::string_view token = text::next_token(line);
    if (token.empty()) return tokens;
    tokens.push_back(token);
  }
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
  address = family == AF_INET6 ? fmt::format("[{}]:{}", buffer, port)
                               : fmt::format("{}:{}", buffer, port);
  return true;
}

std::string unix_state_name(unsigned state, uint64_t flags) {
  // __SO_ACCEPTCON: the socket called listen().
  if (flags & 0x10000) return "LISTEN";
  switch (state) {
    case 1: return "UNCONNECTED";
    case 2: return "CONNECTING";
    case 3: return "CONNECTED";
    case 4: return "DISCONNECTING";
    default: return fmt::format("UNKNOWN({})", state);
  }
}

}  // namespace

std::string tcp_state_name(unsigned state) {
  switch (state) {
    case 0x01: return "ESTABLISHED";
    case 0x02: return "SYN_SENT";
    case 0x03: return "SYN_RECV";
    case 0x04: return "FIN_WAIT1";
    case 0x05: return "FIN_WAIT2";
    case 0x06: return "TIME_WAIT";
    case 0x07: return "CLOSE";
    case 0x08: return "CLOSE_WAIT";
    case 0x09: return "LAST_ACK";
    case 0x0A: return "LISTEN";
    case 0x0B: return "CLOSING";
    case 0x0C: return "NEW_SYN_RECV";
    default: return fmt::format("UNKNOWN({:02X})", state);
  }
}

void parse_inet_sockets(std::string_view text, int family, int type, int protocol,
                        SocketTable& table) {
  while (!text.empty()) {
    // "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 12345 ..."
    std::vector<std::string_view> t = tokens_of(text::next_line(text));
    if (t.size() < 10 || t[0].empty() || t[0].back() != ':') continue;  // header or junk
    auto inode = text::parse_u64(t[9]);
    auto state = text::parse_u64(t[3], 16);
    if (!inode || !state || *inode == 0) continue;
    SocketInfo info;
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
    info.state = tcp_state_name(static_cast<unsigned>(*state));
    table[info.inode] = std::move(info);
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
    SocketInfo info;
    info.family = AF_UNIX;
    info.type = static_cast<int>(*type);
    info.inode = *inode;
    info.state = unix_state_name(static_cast<unsigned>(*state), *flags);
    // The path is the rest of the line (it may hold spaces); abstract names already start
    // with '@'.
    while (!rest.empty() && text::is_space(rest.front())) rest.remove_prefix(1);
    info.local_address = std::string(rest);
    table[info.inode] = std::move(info);
  }
}

void parse_netlink_sockets(std::string_view text, SocketTable& table) {
  while (!text.empty()) {
    // "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode"
    std::vector<std::string_view> t = tokens_of(text::next_line(text));
    if (t.size() < 10) continue;
    auto protocol = text::parse_u64(t[1]);
    auto port_id = text::parse_u64(t[2]);
    auto inode = text::parse_u64(t[9]);
    if (!protocol || !port_id || !inode || *inode == 0) continue;  // the header fails here
    SocketInfo info;
    info.family = AF_NETLINK;
    info.protocol = static_cast<int>(*protocol);
    info.inode = *inode;
    // The port id is a netlink socket's address.
    info.local_address = fmt::format("{}", *port_id);
    table[info.inode] = std::move(info);
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

SocketTable read_socket_table(pid_t pid) {
  SocketTable table;
  struct InetTable { const char* name; int family, type, protocol; };
  static constexpr InetTable kInet[] = {
      {"tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP},  {"tcp6", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
      {"udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP},   {"udp6", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
      {"raw", AF_INET, SOCK_RAW, 0},               {"raw6", AF_INET6, SOCK_RAW, 0},
  };
  std::string text;
  for (const InetTable& inet : kInet) {
    if (try_read_text_file(fmt::format("/proc/{}/net/{}", pid, inet.name), text) == 0) {
      parse_inet_sockets(text, inet.family, inet.type, inet.protocol, table);
    }
  }
  if (try_read_text_file(fmt::format("/proc/{}/net/unix", pid), text) == 0) {
    parse_unix_sockets(text, table);
  }
  if (try_read_text_file(fmt::format("/proc/{}/net/netlink", pid), text) == 0) {
    parse_netlink_sockets(text, table);
  }
  return table;
}

}  // namespace snapdump::os
