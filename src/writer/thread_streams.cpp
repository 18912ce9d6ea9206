// ThreadList, ThreadNames and ThreadInfoList.
#include <algorithm>
#include <vector>

#include "writer/streams.h"
#include "writer/xstate_context.h"

namespace snapdump::writer {
namespace {

// FILETIME: 100 ns intervals since 1601-01-01.
uint64_t filetime(uint64_t unix_ns) { return unix_ns == 0 ? 0 : unix_ns / 100 + 116444736000000000ull; }

// The thread's stack as it lies in the MemoryList: the copied range holding its stack pointer
// (less the red zone), from there to that range's end.
format::MemoryDescriptor stack_of(const WriteContext& ctx, const ThreadEntry& t) {
  uint64_t sp = t.regs.rsp >= 128 ? t.regs.rsp - 128 : 0;
  for (const CopiedRange& r : ctx.memory) {
    uint64_t start = std::max(sp, r.address);
    if (t.regs.rsp >= r.address && t.regs.rsp < r.address + r.size) {
      uint64_t end = r.address + r.size;
      if (t.stack_base > start && t.stack_base < end) end = t.stack_base;
      return {start, {static_cast<uint32_t>(end - start), static_cast<uint32_t>(r.rva + (start - r.address))}};
    }
  }
  return {sp, {0, 0}};
}

}  // namespace

void write_thread_list(WriteContext& ctx) {
  std::vector<format::Thread> entries;
  for (const PlannedThread& p : ctx.plan.threads) {
    const ThreadEntry& t = *p.thread;
    format::Thread e{};
    e.thread_id = static_cast<uint32_t>(t.tid);
    e.priority = static_cast<uint32_t>(t.priority);
    e.teb = t.regs.fs_base;  // the thread's TLS block: Linux's closest thing to a TEB
    if (p.flags & thread_write::kStack) e.stack = stack_of(ctx, t);
    else e.stack.start_of_memory_range = t.regs.rsp;
    if (p.flags & thread_write::kContext) {
      format::ContextAmd64 c = to_context(t);
      std::optional<std::vector<uint8_t>> extended;
      if (ctx.options.type & dump::kWithAvxXStateContext) extended = xstate_context(t, c);
      if (extended) {
        // 64-byte aligned, so the XSAVE area inside lands on a 64-byte boundary as XSAVE wants.
        e.thread_context = {static_cast<uint32_t>(extended->size()),
                            ctx.builder.append(extended->data(), extended->size(), 64)};
      } else {
        e.thread_context = {sizeof c, ctx.builder.append(&c, sizeof c, 16)};
      }
    }
    entries.push_back(e);
  }
  ctx.builder.add_list_stream(format::StreamType::ThreadList, entries);
}

void write_thread_names(WriteContext& ctx) {
  std::vector<format::ThreadName> names;
  for (const PlannedThread& p : ctx.plan.threads) {
    const ThreadEntry& t = *p.thread;
    if (t.name.empty()) continue;
    names.push_back({static_cast<uint32_t>(t.tid), ctx.builder.append_string(t.name)});
  }
  if (names.empty()) return;
  ctx.builder.add_list_stream(format::StreamType::ThreadNames, names);
}

void write_thread_info_list(WriteContext& ctx) {
  // The planned threads that keep ThreadWriteThreadInfo, then the threads that exited while
  // they were captured (no callback is asked about those: they have nothing else to write).
  std::vector<const ThreadEntry*> threads;
  for (const PlannedThread& p : ctx.plan.threads) {
    if (p.flags & thread_write::kThreadInfo) threads.push_back(p.thread);
  }
  for (const ThreadEntry& t : ctx.snapshot.threads()) {
    if (t.capture == ThreadCapture::exited) threads.push_back(&t);
  }
  std::vector<format::ThreadInfo> infos;
  for (const ThreadEntry* tp : threads) {
    const ThreadEntry& t = *tp;
    format::ThreadInfo i{};
    i.thread_id = static_cast<uint32_t>(t.tid);
    if (t.capture == ThreadCapture::exited) i.dump_flags |= format::thread_info::kExitedThread;
    if (t.context_flags == 0) i.dump_flags |= format::thread_info::kInvalidContext;
    i.exit_status = t.capture == ThreadCapture::exited ? 0 : 259;  // STILL_ACTIVE
    i.create_time = filetime(t.create_time_unix_ns);
    i.kernel_time = t.kernel_time_ns / 100;
    i.user_time = t.user_time_ns / 100;
    i.affinity = t.affinity_mask;
    i.start_address = t.start_address;
    infos.push_back(i);
  }
  format::ThreadInfoListHeader h{sizeof h, sizeof(format::ThreadInfo), static_cast<uint32_t>(infos.size())};
  uint32_t rva = ctx.builder.append(h);
  ctx.builder.append(infos.data(), infos.size() * sizeof(format::ThreadInfo));
  ctx.builder.add_stream(format::StreamType::ThreadInfoList, rva,
                         static_cast<uint32_t>(sizeof h + infos.size() * sizeof(format::ThreadInfo)));
}

}  // namespace snapdump::writer
