// The Exception stream: MINIDUMP_EXCEPTION_INFORMATION on Linux is the signal a dump is about.
// The fields follow what Breakpad's and Crashpad's Linux writers put there and what LLDB and
// minidump_stackwalk read back: ExceptionCode is the signal number, ExceptionFlags its si_code,
// ExceptionAddress si_addr (the faulting address, or the thread's instruction pointer when the
// caller gives none).
#include <signal.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "writer/streams.h"

namespace snapdump::writer {

void check_exception(const Snapshot& snapshot, const DumpException& e) {
  const auto& threads = snapshot.threads();
  auto it = std::find_if(threads.begin(), threads.end(),
                         [&](const ThreadEntry& t) { return static_cast<uint32_t>(t.tid) == e.thread_id; });
  if (it == threads.end()) {
    throw Error(Errc::invalid_argument,
                fmt::format("exception thread {} is not a thread of process {}", e.thread_id, snapshot.pid()));
  }
  if (it->capture == ThreadCapture::exited) {
    throw Error(Errc::invalid_argument, fmt::format("exception thread {} exited while it was captured", e.thread_id));
  }
  if (e.signal <= 0 || e.signal > SIGRTMAX) {
    throw Error(Errc::invalid_argument, fmt::format("{} is not a signal number (1..{})", e.signal, SIGRTMAX));
  }
  if (!e.context.empty() && e.context.size() != sizeof(format::ContextAmd64)) {
    throw Error(Errc::invalid_argument,
                fmt::format("an exception context is a {}-byte AMD64 CONTEXT, not {} bytes",
                            sizeof(format::ContextAmd64), e.context.size()));
  }
}

void write_exception(WriteContext& ctx) {
  const DumpException& e = *ctx.options.exception;
  const ThreadEntry* thread = nullptr;
  for (const ThreadEntry& t : ctx.snapshot.threads()) {
    if (static_cast<uint32_t>(t.tid) == e.thread_id) thread = &t;
  }
  // check_exception ran before the capture was used; the thread is there.
  format::ContextAmd64 context = to_context(*thread);
  if (!e.context.empty()) std::memcpy(&context, e.context.data(), sizeof context);

  format::ExceptionStream s{};
  s.thread_id = e.thread_id;
  s.exception_record.exception_code = static_cast<uint32_t>(e.signal);
  s.exception_record.exception_flags = static_cast<uint32_t>(e.code);
  s.exception_record.exception_address = e.address != 0 ? e.address : context.rip;
  s.thread_context = {sizeof context, ctx.builder.append(&context, sizeof context, 16)};
  uint32_t rva = ctx.builder.append(s);
  ctx.builder.add_stream(format::StreamType::Exception, rva, sizeof s);
}

}  // namespace snapdump::writer
