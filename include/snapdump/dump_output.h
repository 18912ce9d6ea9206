// Where a minidump goes, and how each kind of destination is treated (docs/minidump.md,
// "Output"). A DumpOutput is made before the capture, so that a destination that cannot take a
// dump is refused before the target is paused; write_minidump(snapshot, output) then fills it.
//
//   a new path              written under no name at all (an O_TMPFILE file in the directory
//                           that will hold it; where the file system has none, a temporary name
//                           beside it) and linked into place only when whole: a failed, cancelled
//                           or killed dump leaves nothing behind
//   an existing regular     kept, and the output refused (Errc::already_exists), unless
//   file                    OutputOptions::replace_existing: then replaced atomically when the
//                           new dump is whole; until that instant the old file is untouched
//   a symbolic link         followed; the rules above and below apply to what it names
//   a FIFO, a character     opened as they are and given the dump as a stream, front to back in
//   device, a UNIX socket   one pass: nothing is created or replaced
//   anything else           refused: a directory, a block device
//
// Every file snapdump creates is mode 0600 whatever the umask, owned by the user who runs it
// (a replaced file too: the dump can hold keys and passwords). Every message names the path as
// the caller gave it, never a temporary name.
#pragma once

#include <memory>
#include <string>

namespace snapdump {

struct OutputOptions {
  // Replace a regular file already at the path (atomically, once the new dump is whole).
  bool replace_existing = false;
};

class DumpOutput {
 public:
  enum class Kind {
    new_file,       // a path with no file yet
    replaced_file,  // an existing regular file, replaced when the dump is whole
    stream,         // a FIFO, character device, socket or pipe: written front to back, once
    caller_file,    // a caller's seekable descriptor, written at its offset (see to_fd)
  };

  // Prepares `path` as the table above says. A FIFO's open waits for a reader, as a shell's
  // redirection does. Throws Error naming `path`: already_exists, permission_denied (no right
  // to create there, a read-only file system), no_space, invalid_argument (a directory, a
  // block device, a missing directory, a terminal), io_error.
  static DumpOutput to_path(const std::string& path, const OutputOptions& options = {});

  // A descriptor the caller opened; it is not closed. A regular file (or another seekable
  // non-device file) is written at its current offset: RVAs count from there, the signature
  // is written last and a failed dump truncates the file back (write_minidump(snapshot, fd)).
  // A pipe, socket or character device takes a stream. Refused: a terminal, a descriptor not
  // open for writing, a regular file open with O_APPEND. `name` names it in messages
  // ("standard output"); empty: "fd N".
  static DumpOutput to_fd(int fd, const std::string& name = {});

  DumpOutput(DumpOutput&&) noexcept;
  DumpOutput& operator=(DumpOutput&&) noexcept;
  // An output never written, or whose dump failed, is discarded: its file never appears.
  ~DumpOutput();

  Kind kind() const noexcept;
  bool is_stream() const noexcept { return kind() == Kind::stream; }
  // The destination as the caller named it (the path, or to_fd's name).
  const std::string& name() const noexcept;
  // For a path: the file that receives the dump once symbolic links are followed; else name().
  const std::string& final_path() const noexcept;
  // The one name a temporary file of this output can have while its dump is written or put in
  // place, or "" if it never has one (an O_TMPFILE file that is not replacing another, a stream,
  // a caller's descriptor). Nothing else ever has that name, so a handler of a fatal signal may
  // unlink it (async-signal-safe) whatever the dump's state. Valid while the output lives.
  const char* temporary_name() const noexcept;

  struct Impl;  // internal (src/writer/output.h)
  Impl& impl() noexcept { return *impl_; }

 private:
  explicit DumpOutput(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace snapdump
