// One libdwfl session over a ProcessView: the modules the view lists, reported to libdwfl with
// their build-ids, and the ELF and DWARF files found for them the standard way (the file at the
// module's path when its build-id matches, else /usr/lib/debug/.build-id; the debug file through
// .gnu_debuglink next to the binary, /usr/lib/debug by build-id, and debuginfod when
// DEBUGINFOD_URLS is set). Nothing here reads /proc: the view is all there is of the process.
#pragma once

#include <elfutils/libdwfl.h>

#include <memory>
#include <string>
#include <vector>

#include "view/process_view.h"

namespace snapdump::unwind {

class DwflSession {
 public:
  // Reports the view's modules. Throws std::runtime_error if libdwfl cannot start.
  explicit DwflSession(const view::ProcessView& view);
  ~DwflSession();
  DwflSession(const DwflSession&) = delete;
  DwflSession& operator=(const DwflSession&) = delete;

  Dwfl* dwfl() const { return dwfl_; }
  const view::ProcessView& view() const { return view_; }

  // The view's module at this Dwfl_Module (what find_elf was given), or nullptr.
  const view::Module* module_of(Dwfl_Module* mod) const;

 private:
  struct Reported {
    const view::Module* module;
    const view::ProcessView* view;
    std::vector<uint8_t> image;  // the [vdso]'s bytes, read from the view, for elf_memory
  };
  static int find_elf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base, char** file_name,
                      Elf** elfp);

  const view::ProcessView& view_;
  Dwfl* dwfl_ = nullptr;
  std::vector<std::unique_ptr<Reported>> reported_;
};

}  // namespace snapdump::unwind
