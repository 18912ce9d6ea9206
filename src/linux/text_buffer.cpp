#include "linux/text_buffer.h"

#include "linux/proc_files.h"

namespace snapdump::os {

// os::read_file keeps the string's capacity from the previous file and grows it only when a
// read fills it, which is what makes reusing one buffer cheap.
int TextBuffer::read(const char* path) { return read_file(path, text_); }

}  // namespace snapdump::os
