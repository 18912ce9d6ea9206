// write_minidump_from_core: an ELF core seen through view::CoreView, written by the view's
// minidump writer to the output machinery every dump uses, as write_core does the other way.
#include <sys/stat.h>

#include "snapdump/core.h"
#include "view/core_view.h"
#include "writer/dump_plan.h"
#include "writer/output.h"
#include "writer/view_minidump/view_minidump_writer.h"

namespace snapdump {

MinidumpFromCoreResult write_minidump_from_core(const std::string& core_path, DumpOutput& output) {
  view::CoreView core = view::CoreView::open(core_path);
  writer::view_minidump::ViewMinidumpOptions options;
  // The minidump's time is the core's: when it was written, the nearest the file knows to when
  // the process was stopped.
  struct stat st {};
  if (stat(core_path.c_str(), &st) == 0) options.time_date_stamp = static_cast<uint32_t>(st.st_mtime);
  writer::Steering steering(nullptr);
  writer::view_minidump::ViewMinidumpResult r = output.impl().write_once([&](bool forward_only, auto open) {
    return writer::view_minidump::write_minidump(core, options, steering, {forward_only, open});
  });
  return {r.bytes, r.memory_bytes, r.threads, r.modules, r.ranges, core.gaps(), core.problems()};
}

}  // namespace snapdump
