// The sockets of a network namespace, keyed by inode, from /proc/PID/net/{tcp,tcp6,udp,udp6,
// raw,raw6,unix,netlink}. A socket fd's link only names its inode ("socket:[N]"); these tables
// supply family, type, protocol, addresses and state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>

#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// The table, and the strings of every SocketInfo in it, use the table's allocator: a capture
// under kCreateUseVmAllocations keeps it in its scratch arena.
using SocketTable = std::pmr::unordered_map<uint64_t, SocketInfo>;

// All tables of the target's network namespace into `table`, file texts read into `scratch`.
// A table the kernel lacks (no IPv6, no raw sockets) is skipped; a vanished process gives an
// empty table, not an error.
void read_socket_table(pid_t pid, SocketTable& table, std::pmr::memory_resource* scratch);

// One /proc/net/{tcp,udp,raw}[6] text. `family` is AF_INET or AF_INET6; for raw sockets the
// kernel puts the protocol where the local port would be. A later line for an inode already
// in the table replaces it. Lines that do not parse are skipped.
void parse_inet_sockets(std::string_view text, int family, int type, int protocol,
                        SocketTable& table);
void parse_unix_sockets(std::string_view text, SocketTable& table);
void parse_netlink_sockets(std::string_view text, SocketTable& table);

// Family, type and protocol from a socket's "system.sockprotoname" xattr ("TCP", "UDPv6",
// "UNIX-STREAM", "NETLINK", ...), for sockets the tables do not list (unbound sockets, packet
// sockets). False for a name it does not know.
bool socket_from_protocol_name(std::string_view name, SocketInfo& info);

// "ESTABLISHED", "LISTEN", ... for the hex state code of the tcp tables, into `out` (whose
// allocator stays).
void assign_tcp_state_name(unsigned state, std::pmr::string& out);

}  // namespace snapdump::os
