#include "unwind/symbolizer.h"

#include <cxxabi.h>
#include <elfutils/libdw.h>

#include <unistd.h>

#include <cstdlib>
#include <memory>

namespace snapdump::unwind {
namespace {

uint64_t lookup_address(const Frame& frame) { return frame.activation ? frame.pc : frame.pc - 1; }

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

std::vector<uint8_t> build_id_of(Dwfl_Module* mod) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  int n = dwfl_module_build_id(mod, &bits, &vaddr);
  if (n <= 0) return {};
  return std::vector<uint8_t>(bits, bits + n);
}

bool cfi_covers(Dwarf_CFI* cfi, Dwarf_Addr bias, uint64_t address) {
  if (cfi == nullptr) return false;
  Dwarf_Frame* frame = nullptr;
  if (dwarf_cfi_addrframe(cfi, address - bias, &frame) != 0) return false;
  std::free(frame);
  return true;
}

// Where libdebuginfod keeps what it fetched for this build-id (debuginfod-find(1)): libdwfl
// 0.188 opens a file found through debuginfod without recording its name.
std::string debuginfod_cached(const std::vector<uint8_t>& build_id) {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (urls == nullptr || *urls == '\0' || build_id.empty()) return "";
  std::string cache;
  if (const char* path = std::getenv("DEBUGINFOD_CACHE_PATH"); path != nullptr && *path != '\0') {
    cache = path;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    cache = std::string(xdg) + "/debuginfod_client";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    cache = std::string(home) + "/.cache/debuginfod_client";
  } else {
    return "";
  }
  std::string hex;
  for (uint8_t b : build_id) hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  std::string file = cache + "/" + hex + "/debuginfo";
  return ::access(file.c_str(), R_OK) == 0 ? file : "";
}

// The source line of `address` from the compile unit that covers it, found by asking each unit
// (DW_AT_low_pc/high_pc or DW_AT_ranges), as binutils' addr2line does. libdw 0.188 (Debian 12)
// finds the unit through .debug_aranges only, and Clang does not emit that section unless asked
// (-gdwarf-aranges): without this, a Clang-built program with full DWARF gets no lines at all.
bool line_from_units(Dwfl_Module* mod, uint64_t address, Frame& frame) {
  Dwarf_Addr bias = 0;
  for (Dwarf_Die* cu = dwfl_module_nextcu(mod, nullptr, &bias); cu != nullptr;
       cu = dwfl_module_nextcu(mod, cu, &bias)) {
    if (dwarf_haspc(cu, address - bias) <= 0) continue;
    Dwarf_Line* line = dwarf_getsrc_die(cu, address - bias);
    const char* file = line != nullptr ? dwarf_linesrc(line, nullptr, nullptr) : nullptr;
    if (file == nullptr) return false;
    int lineno = 0, column = 0;
    dwarf_lineno(line, &lineno);
    dwarf_linecol(line, &column);
    frame.source_file = file;
    frame.line = lineno;
    frame.column = column;
    return true;
  }
  return false;
}

}  // namespace

ModuleInfo describe_module(const DwflSession& session, Dwfl_Module* mod) {
  ModuleInfo info;
  Dwarf_Addr start = 0, end = 0;
  const char* main_file = nullptr;
  const char* debug_file = nullptr;
  const char* name = dwfl_module_info(mod, nullptr, &start, &end, nullptr, nullptr, &main_file, &debug_file);
  const view::Module* m = session.module_of(mod);
  info.path = m != nullptr ? m->path : (name != nullptr ? name : "");
  info.base = start;
  info.end = end;
  info.build_id = build_id_of(mod);
  if (info.build_id.empty() && m != nullptr) info.build_id = m->build_id;
  if (main_file != nullptr) info.elf_file = main_file;
  if (debug_file != nullptr) {
    info.debug_file = debug_file;
  } else if (Dwarf_Addr bias = 0; dwfl_module_getdwarf(mod, &bias) != nullptr) {
    // DWARF without a file name: fetched through debuginfod, or the main file's own.
    info.debug_file = debuginfod_cached(info.build_id);
    if (info.debug_file.empty()) info.debug_file = info.elf_file;
  }
  return info;
}

void symbolize(const DwflSession& session, Frame& frame) {
  uint64_t address = lookup_address(frame);
  Dwfl_Module* mod = dwfl_addrmodule(session.dwfl(), address);
  if (mod == nullptr) return;
  // Loads the ELF file (and, for the lines below, the debug file: next to the binary,
  // /usr/lib/debug, or debuginfod).
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, address, &offset, &sym, nullptr, nullptr, nullptr);
  if (name != nullptr && *name != '\0') {
    frame.symbol = name;
    frame.function = demangle(name);
    frame.function_offset = offset + (frame.pc - address);
  }
  if (Dwfl_Line* line = dwfl_module_getsrc(mod, address)) {
    int lineno = 0, column = 0;
    if (const char* file = dwfl_lineinfo(line, nullptr, &lineno, &column, nullptr, nullptr)) {
      frame.source_file = file;
      frame.line = lineno;
      frame.column = column;
    }
  } else {
    line_from_units(mod, address, frame);
  }
  ModuleInfo info = describe_module(session, mod);
  frame.module = info.path;
  frame.module_offset = frame.pc - info.base;
  frame.build_id = std::move(info.build_id);
  frame.debug_file = std::move(info.debug_file);
}

bool has_cfi(const DwflSession& session, const Frame& frame) {
  uint64_t address = lookup_address(frame);
  Dwfl_Module* mod = dwfl_addrmodule(session.dwfl(), address);
  if (mod == nullptr) return false;
  // libdwfl's order: .eh_frame, then .debug_frame (each call sets its own bias first).
  Dwarf_Addr eh_bias = 0, dwarf_bias = 0;
  Dwarf_CFI* eh = dwfl_module_eh_cfi(mod, &eh_bias);
  if (cfi_covers(eh, eh_bias, address)) return true;
  Dwarf_CFI* dwarf = dwfl_module_dwarf_cfi(mod, &dwarf_bias);
  return cfi_covers(dwarf, dwarf_bias, address);
}

}  // namespace snapdump::unwind
