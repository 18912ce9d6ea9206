#include "unwind/dwfl_session.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace snapdump::unwind {
namespace {

// libdwfl keeps a pointer to this: a static lives as long as any session. Null means libdwfl's
// default search path, ":.debug:/usr/lib/debug" (next to the binary, its .debug/, /usr/lib/debug).
char* debuginfo_path = nullptr;

bool is_pseudo_path(const std::string& path) { return path.empty() || path.front() == '['; }

// The build-id of an ELF file, compared with the one the view recorded for the mapping: a file
// replaced since the process mapped it (an upgrade) must not name the old code's frames.
bool build_id_matches(Elf* elf, const std::vector<uint8_t>& expected) {
  if (expected.empty()) return true;  // nothing to compare with: the path is all we have
  const void* bits = nullptr;
  ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
  return n > 0 && static_cast<size_t>(n) == expected.size() && std::memcmp(bits, expected.data(), expected.size()) == 0;
}

}  // namespace

DwflSession::DwflSession(const view::ProcessView& view) : view_(view) {
  elf_version(EV_CURRENT);
  static const Dwfl_Callbacks callbacks = {
      .find_elf = &DwflSession::find_elf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .section_address = dwfl_offline_section_address,
      .debuginfo_path = &debuginfo_path,
  };
  dwfl_ = dwfl_begin(&callbacks);
  if (dwfl_ == nullptr) throw std::runtime_error(std::string("libdwfl: ") + dwfl_errmsg(-1));
  dwfl_report_begin(dwfl_);
  for (const view::Module& m : view.modules()) {
    if (m.size == 0) continue;
    // libdwfl refuses overlapping modules; the view's are disjoint, but a bad dump's may not be.
    Dwfl_Module* mod = dwfl_report_module(dwfl_, m.path.empty() ? "[unnamed]" : m.path.c_str(), m.base, m.base + m.size);
    if (mod == nullptr) continue;
    if (!m.build_id.empty()) dwfl_module_report_build_id(mod, m.build_id.data(), m.build_id.size(), 0);
    auto reported = std::make_unique<Reported>();
    reported->module = &m;
    reported->view = &view;
    void** userdata = nullptr;
    dwfl_module_info(mod, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
    if (userdata != nullptr) *userdata = reported.get();
    reported_.push_back(std::move(reported));
  }
  dwfl_report_end(dwfl_, nullptr, nullptr);
}

DwflSession::~DwflSession() { dwfl_end(dwfl_); }

const view::Module* DwflSession::module_of(Dwfl_Module* mod) const {
  void** userdata = nullptr;
  if (mod == nullptr || dwfl_module_info(mod, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) == nullptr ||
      userdata == nullptr || *userdata == nullptr)
    return nullptr;
  return static_cast<Reported*>(*userdata)->module;
}

// libdwfl calls this the first time it needs a module's ELF file. The module's own path comes
// first (the common case: the binary is still there and unchanged); the [vdso] is read from the
// view (it exists in no file); anything else goes to libdwfl's build-id search, which also asks
// debuginfod for the executable when DEBUGINFOD_URLS is set.
int DwflSession::find_elf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base, char** file_name,
                          Elf** elfp) {
  auto* reported = userdata != nullptr ? static_cast<Reported*>(*userdata) : nullptr;
  if (reported != nullptr) {
    const view::Module& m = *reported->module;
    if (m.path == "[vdso]") {
      // Its bytes, if the view holds them (a minidump may not): kept for as long as the session.
      reported->image.resize(m.size);
      if (reported->view->read_memory(m.base, reported->image) == m.size) {
        Elf* elf = elf_memory(reinterpret_cast<char*>(reported->image.data()), reported->image.size());
        if (elf != nullptr && elf_kind(elf) == ELF_K_ELF && build_id_matches(elf, m.build_id)) {
          *file_name = strdup(m.path.c_str());
          *elfp = elf;
          return -1;
        }
        if (elf != nullptr) elf_end(elf);
      }
      reported->image.clear();
    } else if (!is_pseudo_path(m.path)) {
      int fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
        if (elf != nullptr && elf_kind(elf) == ELF_K_ELF && build_id_matches(elf, m.build_id)) {
          *file_name = strdup(m.path.c_str());
          *elfp = elf;
          return fd;
        }
        if (elf != nullptr) elf_end(elf);
        ::close(fd);
      }
    }
  }
  return dwfl_build_id_find_elf(mod, userdata, name, base, file_name, elfp);
}

}  // namespace snapdump::unwind
