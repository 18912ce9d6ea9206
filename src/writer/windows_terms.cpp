#include "writer/windows_terms.h"

#include <sys/mman.h>

#include <cstring>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"

namespace snapdump::writer {

uint32_t page_protection(uint32_t prot, bool shared, std::string_view path) {
  bool read = prot & PROT_READ, write = prot & PROT_WRITE, exec = prot & PROT_EXEC;
  bool copy_on_write = write && !shared && !path.empty() && path[0] == '/';
  if (exec) {
    if (write) return copy_on_write ? format::page::kExecuteWriteCopy : format::page::kExecuteReadWrite;
    return read ? format::page::kExecuteRead : format::page::kExecute;
  }
  if (write) return copy_on_write ? format::page::kWriteCopy : format::page::kReadWrite;
  return read ? format::page::kReadOnly : format::page::kNoAccess;
}

std::vector<uint8_t> elf_cv_record(std::span<const uint8_t> build_id) {
  if (build_id.empty()) return {};
  std::vector<uint8_t> cv(4 + build_id.size());
  format::CvInfoElfHeader h{format::kCvSignatureElf};
  std::memcpy(cv.data(), &h, 4);
  std::memcpy(cv.data() + 4, build_id.data(), build_id.size());
  return cv;
}

}  // namespace snapdump::writer
