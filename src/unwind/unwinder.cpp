#include "unwind/unwinder.h"

#include <algorithm>
#include <map>

#include "unwind/dwfl_session.h"
#include "unwind/symbolizer.h"
#include "unwind/thread_callbacks.h"

namespace snapdump::unwind {

const char* to_string(FrameMethod method) noexcept {
  switch (method) {
    case FrameMethod::initial: return "initial";
    case FrameMethod::cfi: return "cfi";
    case FrameMethod::frame_pointer: return "frame pointer";
  }
  return "?";
}

namespace {

struct Walk {
  const DwflSession* session;
  const UnwindOptions* options;
  ThreadStack* stack;
};

int on_frame(Dwfl_Frame* state, void* arg) {
  auto& walk = *static_cast<Walk*>(arg);
  Frame frame;
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) {
    walk.stack->stopped = std::string("no pc for the next frame: ") + dwfl_errmsg(-1);
    return DWARF_CB_ABORT;
  }
  frame.pc = pc;
  frame.activation = activation;
  std::vector<Frame>& frames = walk.stack->frames;
  if (!frames.empty()) {
    // libdwfl unwound this frame from the one below it, with that frame's CFI if its module has
    // any for its pc, else with the frame pointer (libdwfl's x86-64 backend): the same test.
    frame.method = has_cfi(*walk.session, frames.back()) ? FrameMethod::cfi : FrameMethod::frame_pointer;
  }
  symbolize(*walk.session, frame);
  frames.push_back(std::move(frame));
  if (frames.size() >= walk.options->max_frames) {
    walk.stack->stopped = "stopped after " + std::to_string(frames.size()) + " frames (--max-frames)";
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

// A thread without registers (it exited while the capture ran, or the source lost them) has
// nothing to unwind from; libdwfl would report pc 0 as a frame.
bool has_registers(const view::ThreadState& t) { return t.regs.rip != 0 || t.regs.rsp != 0; }

}  // namespace

Stacks unwind_stacks(const view::ProcessView& view, const UnwindOptions& options) {
  DwflSession session(view);
  attach_threads(session);
  Stacks out;
  out.pid = view.process().pid;
  out.gaps = view.gaps();
  for (const view::ThreadState& t : view.threads()) {
    ThreadStack stack;
    stack.tid = t.tid;
    stack.name = t.name;
    if (!has_registers(t)) {
      stack.stopped = "no registers: the thread exited while it was captured, or the source has none";
      out.threads.push_back(std::move(stack));
      continue;
    }
    Walk walk{&session, &options, &stack};
    int rc = dwfl_getthread_frames(session.dwfl(), t.tid, on_frame, &walk);
    if (rc == -1 && stack.stopped.empty()) {
      // Without CFI for the last frame libdwfl tried its frame pointer and gives no reason of
      // its own ("Callback returned failure"); with CFI its reason names what was missing (a
      // stack word the view does not hold, ...).
      if (!stack.frames.empty() && !has_cfi(session, stack.frames.back())) {
        stack.stopped = "no CFI for the last frame and no frame pointer chain from it (rbp is 0, or does not "
                        "lead up the stack, or the stack word it points at was not captured)";
      } else {
        stack.stopped = std::string("libdwfl: ") + dwfl_errmsg(-1);
      }
    }
    out.threads.push_back(std::move(stack));
  }
  // The modules the frames are in, described once each (their files were found while naming).
  std::map<uint64_t, ModuleInfo> modules;
  for (const ThreadStack& s : out.threads) {
    for (const Frame& f : s.frames) {
      if (f.module.empty()) continue;
      Dwfl_Module* mod = dwfl_addrmodule(session.dwfl(), f.activation ? f.pc : f.pc - 1);
      if (mod == nullptr) continue;
      ModuleInfo info = describe_module(session, mod);
      modules.emplace(info.base, std::move(info));
    }
  }
  for (auto& [base, info] : modules) out.modules.push_back(std::move(info));
  return out;
}

}  // namespace snapdump::unwind
