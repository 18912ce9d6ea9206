// ThreadList (or ThreadExList), joined with ThreadNames and ThreadInfoList by thread id, and
// the Exception streams, which carry a thread's context too.
#include <iterator>
#include <map>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

namespace {

std::map<uint32_t, std::string> thread_names(const Context& ctx) {
  std::map<uint32_t, std::string> names;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::ThreadNames));
  if (!stream) return names;
  auto layout = counted_list(ctx, *stream, sizeof(format::ThreadName), "ThreadNames");
  if (!layout) return names;
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto n = load<format::ThreadName>(*stream, layout->offset + i * layout->stride);
    if (!n) break;
    auto name = ctx.string_at(n->rva_of_thread_name,
                              fmt::format("ThreadNames: entry {} (thread {}) name", i, n->thread_id));
    if (name) names.emplace(n->thread_id, std::move(*name));
  }
  return names;
}

std::map<uint32_t, format::ThreadInfo> thread_infos(const Context& ctx) {
  std::map<uint32_t, format::ThreadInfo> infos;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::ThreadInfoList));
  if (!stream) return infos;
  auto h = load<format::ThreadInfoListHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("ThreadInfoList: stream of {} bytes is too small for its header",
                            stream->size()));
    return infos;
  }
  auto layout = sized_list(ctx, *stream, h->size_of_header, h->size_of_entry, h->number_of_entries,
                           sizeof(format::ThreadInfoListHeader), sizeof(format::ThreadInfo),
                           "ThreadInfoList");
  if (!layout) return infos;
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto info = load<format::ThreadInfo>(*stream, layout->offset + i * layout->stride);
    if (!info) break;
    infos.emplace(info->thread_id, *info);
  }
  return infos;
}

}  // namespace

std::vector<ThreadView> parse_threads(const Context& ctx) {
  std::vector<ThreadView> threads;
  const char* name = "ThreadList";
  uint64_t entry_size = sizeof(format::Thread);
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::ThreadList));
  if (!stream) {
    stream = ctx.first(static_cast<uint32_t>(format::StreamType::ThreadExList));
    name = "ThreadExList";
    entry_size = sizeof(format::ThreadEx);
  }
  if (!stream) return threads;
  auto layout = counted_list(ctx, *stream, entry_size, name);
  if (!layout) return threads;
  auto names = thread_names(ctx);
  auto infos = thread_infos(ctx);
  threads.reserve(layout->count);
  for (uint64_t i = 0; i < layout->count; ++i) {
    // MINIDUMP_THREAD_EX starts with a MINIDUMP_THREAD; its BackingStore is IA-64 only.
    auto t = load<format::Thread>(*stream, layout->offset + i * layout->stride);
    if (!t) break;
    ThreadView v{};
    v.tid = t->thread_id;
    v.suspend_count = t->suspend_count;
    v.priority_class = t->priority_class;
    v.priority = t->priority;
    v.teb = t->teb;
    v.stack_start = t->stack.start_of_memory_range;
    const std::string what = fmt::format("{}: thread {} (tid {})", name, i, t->thread_id);
    if (t->stack.memory.data_size != 0) {
      v.stack = ctx.location(t->stack.memory, what + " stack").value_or(Bytes{});
    }
    ParsedContext context = parse_context(ctx, t->thread_context, what + " context");
    v.context = context.registers;
    v.context_layout = context.layout;
    v.context_bytes = context.raw;
    if (auto it = names.find(v.tid); it != names.end()) v.name = it->second;
    if (auto it = infos.find(v.tid); it != infos.end()) v.info = it->second;
    threads.push_back(std::move(v));
  }
  return threads;
}

std::vector<ExceptionView> parse_exceptions(const Context& ctx) {
  std::vector<ExceptionView> out;
  size_t index = 0;
  for (Bytes stream : ctx.all(static_cast<uint32_t>(format::StreamType::Exception))) {
    const std::string what = fmt::format("Exception stream {}", index++);
    auto e = load<format::ExceptionStream>(stream, 0);
    if (!e) {
      ctx.problem(fmt::format("{}: {} bytes, smaller than MINIDUMP_EXCEPTION_STREAM ({})", what,
                              stream.size(), sizeof(format::ExceptionStream)));
      continue;
    }
    ExceptionView v{};
    v.tid = e->thread_id;
    v.code = e->exception_record.exception_code;
    v.flags = e->exception_record.exception_flags;
    v.address = e->exception_record.exception_address;
    uint32_t n = e->exception_record.number_parameters;
    constexpr uint32_t kMaxParameters = std::size(format::Exception{}.exception_information);
    if (n > kMaxParameters) {
      ctx.problem(fmt::format("{}: NumberParameters {} is more than {}", what, n, kMaxParameters));
      n = kMaxParameters;
    }
    v.parameters.assign(e->exception_record.exception_information,
                        e->exception_record.exception_information + n);
    ParsedContext context = parse_context(ctx, e->thread_context, what + " context");
    v.context = context.registers;
    v.context_layout = context.layout;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace snapdump::reader::detail
