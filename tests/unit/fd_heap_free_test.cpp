// read_handles under kCreateUseVmAllocations: with both resources bump arenas over static
// buffers (null upstream), the whole handle capture of a child holding one fd of every kind
// must not call operator new (nor malloc, where the counter sees it), and must give what the
// default-resource call gives.
#include <sys/socket.h>

#include <cstddef>
#include <memory_resource>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include "linux/fd_inspect.h"
#include "linux/socket_table.h"
#include "support/heap_counter.h"
#include "unit/fd_child.h"

namespace snapdump::os {
namespace {

using test::FdChild;
using test::kAllHandleInfo;

// Static, so that the arenas themselves take nothing from the heap.
alignas(std::max_align_t) std::byte out_buffer[8 << 20];
alignas(std::max_align_t) std::byte scratch_buffer[8 << 20];

bool uses(const std::pmr::string& s, std::pmr::memory_resource* memory) {
  return s.get_allocator().resource() == memory;
}

// Every string and list of the entry, type-specific ones included, comes from `memory`.
void expect_all_from(const HandleEntry& e, std::pmr::memory_resource* memory) {
  EXPECT_TRUE(uses(e.name, memory)) << e.fd;
  EXPECT_TRUE(uses(e.type_name, memory)) << e.fd;
  if (auto* s = std::get_if<SocketInfo>(&e.type_specific)) {
    EXPECT_TRUE(uses(s->local_address, memory) && uses(s->remote_address, memory) &&
                uses(s->state, memory))
        << e.fd;
  } else if (auto* epoll = std::get_if<EpollInfo>(&e.type_specific)) {
    EXPECT_EQ(epoll->watches.get_allocator().resource(), memory) << e.fd;
  } else if (auto* inotify = std::get_if<InotifyInfo>(&e.type_specific)) {
    EXPECT_EQ(inotify->watches.get_allocator().resource(), memory) << e.fd;
    for (const InotifyWatch& w : inotify->watches) EXPECT_TRUE(uses(w.path, memory)) << e.fd;
  } else if (auto* memfd = std::get_if<MemfdInfo>(&e.type_specific)) {
    EXPECT_TRUE(uses(memfd->name, memory)) << e.fd;
  }
}

void expect_same_specific(const TypeSpecific& a, const TypeSpecific& b, int fd) {
  ASSERT_EQ(a.index(), b.index()) << fd;
  if (auto* x = std::get_if<SocketInfo>(&a)) {
    const auto& y = std::get<SocketInfo>(b);
    EXPECT_EQ(x->family, y.family) << fd;
    EXPECT_EQ(x->type, y.type) << fd;
    EXPECT_EQ(x->protocol, y.protocol) << fd;
    EXPECT_EQ(x->local_address, y.local_address) << fd;
    EXPECT_EQ(x->remote_address, y.remote_address) << fd;
    EXPECT_EQ(x->state, y.state) << fd;
    EXPECT_EQ(x->inode, y.inode) << fd;
  } else if (auto* x = std::get_if<PipeInfo>(&a)) {
    const auto& y = std::get<PipeInfo>(b);
    EXPECT_TRUE(x->inode == y.inode && x->read_end == y.read_end && x->write_end == y.write_end) << fd;
  } else if (auto* x = std::get_if<EventFdInfo>(&a)) {
    const auto& y = std::get<EventFdInfo>(b);
    EXPECT_TRUE(x->count == y.count && x->semaphore == y.semaphore) << fd;
  } else if (auto* x = std::get_if<TimerFdInfo>(&a)) {
    // value_ns is the time left, which runs on between the two calls.
    const auto& y = std::get<TimerFdInfo>(b);
    EXPECT_TRUE(x->clock_id == y.clock_id && x->ticks == y.ticks &&
                x->interval_ns == y.interval_ns && x->settime_flags == y.settime_flags) << fd;
  } else if (auto* x = std::get_if<SignalFdInfo>(&a)) {
    EXPECT_EQ(x->mask, std::get<SignalFdInfo>(b).mask) << fd;
  } else if (auto* x = std::get_if<EpollInfo>(&a)) {
    const auto& y = std::get<EpollInfo>(b);
    ASSERT_EQ(x->watches.size(), y.watches.size()) << fd;
    for (size_t i = 0; i < x->watches.size(); ++i) {
      EXPECT_TRUE(x->watches[i].fd == y.watches[i].fd && x->watches[i].events == y.watches[i].events &&
                  x->watches[i].data == y.watches[i].data) << fd;
    }
  } else if (auto* x = std::get_if<InotifyInfo>(&a)) {
    const auto& y = std::get<InotifyInfo>(b);
    ASSERT_EQ(x->watches.size(), y.watches.size()) << fd;
    for (size_t i = 0; i < x->watches.size(); ++i) {
      EXPECT_TRUE(x->watches[i].wd == y.watches[i].wd && x->watches[i].inode == y.watches[i].inode &&
                  x->watches[i].mask == y.watches[i].mask && x->watches[i].path == y.watches[i].path) << fd;
    }
  } else if (auto* x = std::get_if<MemfdInfo>(&a)) {
    const auto& y = std::get<MemfdInfo>(b);
    EXPECT_TRUE(x->name == y.name && x->size == y.size && x->seals == y.seals) << fd;
  } else if (auto* x = std::get_if<PidfdInfo>(&a)) {
    EXPECT_EQ(x->pid, std::get<PidfdInfo>(b).pid) << fd;
  }
}

TEST(FdHeapFree, AllHandleInformationWithoutTheHeap) {
  FdChild child;
  const auto expected = read_handles(child.pid(), kAllHandleInfo);

  std::pmr::monotonic_buffer_resource out(out_buffer, sizeof out_buffer,
                                          std::pmr::null_memory_resource());
  std::pmr::monotonic_buffer_resource scratch(scratch_buffer, sizeof scratch_buffer,
                                              std::pmr::null_memory_resource());
  const long before = snapdump::testing::heap_watched_count();
  snapdump::testing::heap_watch(true);
  std::pmr::vector<HandleEntry> handles = read_handles(child.pid(), kAllHandleInfo, &out, &scratch);
  snapdump::testing::heap_watch(false);
  EXPECT_EQ(snapdump::testing::heap_watched_count(), before)
      << "read_handles allocated from the heap"
      << (snapdump::testing::heap_watch_sees_malloc() ? "" : " (operator new only counted)");

  EXPECT_EQ(handles.get_allocator().resource(), &out);
  ASSERT_EQ(handles.size(), expected.size());
  ASSERT_GE(handles.size(), 20u);  // the child's fds of every kind, and stdio
  for (size_t i = 0; i < handles.size(); ++i) {
    const HandleEntry& a = handles[i];
    const HandleEntry& b = expected[i];
    EXPECT_EQ(a.fd, b.fd);
    EXPECT_EQ(a.kind, b.kind) << a.fd;
    EXPECT_TRUE(a.has_name && a.has_basic) << a.fd;
    EXPECT_EQ(a.has_type_specific, b.has_type_specific) << a.fd;
    EXPECT_EQ(a.name, b.name) << a.fd;
    EXPECT_EQ(a.type_name, b.type_name) << a.fd;
    EXPECT_EQ(a.open_flags, b.open_flags) << a.fd;
    EXPECT_EQ(a.position, b.position) << a.fd;
    EXPECT_EQ(a.mount_id, b.mount_id) << a.fd;
    EXPECT_EQ(a.inode, b.inode) << a.fd;
    EXPECT_EQ(a.mode, b.mode) << a.fd;
    EXPECT_EQ(a.granted_access, b.granted_access) << a.fd;
    expect_same_specific(a.type_specific, b.type_specific, a.fd);
    expect_all_from(a, &out);
  }
}

// The tables keep every string in the table's own resource, and cut-off or garbled lines (a
// table read while sockets come and go) are skipped without reading past the text.
TEST(FdHeapFree, SocketTablesStayInTheirResourceAndSurviveTruncation) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 4242 1\n"
      "   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  0  0 4343 1\n";
  std::pmr::monotonic_buffer_resource arena(scratch_buffer, sizeof scratch_buffer,
                                            std::pmr::null_memory_resource());
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    // The copy ends exactly at the cut, so a parser that reads past the text trips ASan.
    std::string part(text.data(), cut);
    SocketTable table(&arena);
    parse_inet_sockets(part, AF_INET, SOCK_STREAM, 6, table);
    parse_unix_sockets(part, table);
    parse_netlink_sockets(part, table);
    for (const auto& [inode, info] : table) {
      EXPECT_EQ(inode, info.inode);
      EXPECT_TRUE(uses(info.local_address, &arena) && uses(info.remote_address, &arena) &&
                  uses(info.state, &arena));
    }
    if (cut == text.size()) {
      ASSERT_EQ(table.size(), 2u);
      EXPECT_EQ(table.at(4242).local_address, "127.0.0.1:8080");
      EXPECT_EQ(table.at(4242).state, "LISTEN");
      EXPECT_EQ(table.at(4343).remote_address, "127.0.0.1:54321");
      EXPECT_EQ(table.at(4343).state, "ESTABLISHED");
    }
  }
  // A later line for the same inode replaces the earlier one, as the kernel's last word.
  SocketTable table(&arena);
  parse_unix_sockets("0: 2 0 0 0001 01 9 /a\n0: 2 0 0 0001 03 9 /b\n", table);
  ASSERT_EQ(table.count(9), 1u);
  EXPECT_EQ(table.at(9).local_address, "/b");
  EXPECT_EQ(table.at(9).state, "CONNECTED");
  std::pmr::string state(&arena);
  assign_tcp_state_name(0x42, state);
  EXPECT_EQ(state, "UNKNOWN(42)");
}

}  // namespace
}  // namespace snapdump::os
