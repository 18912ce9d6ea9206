// ELF identities against the test binary, libc and the vDSO, checked with readelf.
#include "linux/elf_identity.h"

#include <span>
#include <string_view>
#include <elf.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "linux/procfs.h"

namespace snapdump::os {
namespace {

std::string hex(std::span<const uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 15];
  }
  return text;
}

// The "Build ID: <hex>" line of `readelf -n`, an independent reading of the same note.
std::string readelf_build_id(const std::string& path) {
  std::string command = "readelf -n '" + path + "' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  ::pclose(pipe);
  const std::string key = "Build ID: ";
  size_t at = output.find(key);
  if (at == std::string::npos) return {};
  size_t end = output.find_first_of(" \n", at + key.size());
  return output.substr(at + key.size(), end - at - key.size());
}

std::string self_exe() {
  char buffer[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

bool is_libc(const Region& region) {
  auto slash = region.path.rfind('/');
  std::string base(slash == std::string::npos ? std::string_view(region.path) : std::string_view(region.path).substr(slash + 1));
  return base.starts_with("libc.so") || base.starts_with("libc-");
}

TEST(ElfIdentityTest, BuildIdOfTestBinaryMatchesReadelf) {
  // readelf must get the resolved path: in its own process /proc/self is readelf.
  std::string expected = readelf_build_id(self_exe());
  ASSERT_FALSE(expected.empty()) << "readelf found no build-id";
  auto identity = read_elf_identity("/proc/self/exe");
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(hex(identity->build_id), expected);
  EXPECT_TRUE(identity->elf_type == ET_DYN || identity->elf_type == ET_EXEC);
  EXPECT_EQ(identity->load_address, 0u);
  EXPECT_EQ(identity->image_size, 0u);
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/exe", &st), 0);
  EXPECT_EQ(identity->file_size, static_cast<uint64_t>(st.st_size));
  EXPECT_EQ(identity->file_mtime_unix, st.st_mtim.tv_sec);
}

TEST(ElfIdentityTest, NotElfOrMissing) {
  EXPECT_FALSE(read_elf_identity("/etc/passwd").has_value());
  EXPECT_FALSE(read_elf_identity("/nonexistent/file").has_value());
  EXPECT_FALSE(read_elf_identity("/dev/null").has_value());
  EXPECT_FALSE(read_elf_identity("/tmp").has_value());
}

TEST(ElfIdentityTest, LibcSonameAndBuildId) {
  auto regions = read_maps(::getpid(), false);
  std::string libc_path;
  for (const Region& region : regions) {
    if (is_libc(region)) libc_path = region.path;
  }
  ASSERT_FALSE(libc_path.empty());
  auto identity = read_elf_identity(libc_path);
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->soname, "libc.so.6");
  EXPECT_EQ(identity->elf_type, ET_DYN);
  EXPECT_EQ(hex(identity->build_id), readelf_build_id(libc_path));
}

// Checks the module identities of `pid`, whose libc and main binary are those of this process.
void expect_modules_attached(pid_t pid) {
  auto regions = read_maps(pid, false);
  attach_module_identities(pid, regions);

  uint64_t libc_low = UINT64_MAX, libc_high = 0;
  const Region* libc_base = nullptr;
  const Region* exe_base = nullptr;
  const Region* vdso = nullptr;
  for (const Region& region : regions) {
    if (is_libc(region)) {
      libc_low = std::min(libc_low, region.start);
      libc_high = std::max(libc_high, region.end);
      EXPECT_EQ(region.type, RegionType::image) << region.path;
      if (region.elf) libc_base = &region;
    }
    if (std::string_view(region.path) == self_exe() && region.elf) exe_base = &region;
    if (region.path == "[vdso]") vdso = &region;
    if (region.path == "[heap]" || region.path == "[stack]") {
      EXPECT_FALSE(region.elf.has_value());
      EXPECT_EQ(region.type, RegionType::private_);
    }
  }
  ASSERT_NE(libc_base, nullptr);
  EXPECT_EQ(libc_base->start, libc_low);
  EXPECT_EQ(libc_base->elf->load_address, libc_low);
  EXPECT_EQ(libc_base->elf->image_size, libc_high - libc_low);
  EXPECT_FALSE(libc_base->elf->build_id.empty());
  EXPECT_EQ(libc_base->elf->soname, "libc.so.6");

  ASSERT_NE(exe_base, nullptr);
  EXPECT_EQ(hex(exe_base->elf->build_id), readelf_build_id(self_exe()));

  ASSERT_NE(vdso, nullptr);
  ASSERT_TRUE(vdso->elf.has_value());
  EXPECT_EQ(vdso->type, RegionType::image);
  EXPECT_EQ(vdso->elf->load_address, vdso->start);
  EXPECT_EQ(vdso->elf->image_size, vdso->end - vdso->start);
  EXPECT_EQ(vdso->elf->elf_type, ET_DYN);
  EXPECT_EQ(vdso->elf->soname, "linux-vdso.so.1");
}

TEST(ElfIdentityTest, AttachModulesOfSelf) {
  expect_modules_attached(::getpid());
  auto regions = read_maps(::getpid(), false);
  attach_module_identities(::getpid(), regions);
  for (const Region& region : regions) {
    if (region.path == "[vdso]") {
      EXPECT_EQ(region.start, ::getauxval(AT_SYSINFO_EHDR));
    }
  }
}

TEST(ElfIdentityTest, AttachModulesOfChild) {
  pid_t pid = ::fork();
  if (pid == 0) {
    while (true) ::pause();
  }
  expect_modules_attached(pid);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

// A program may unmap a page of its own image: node 20 leaves a one-page hole after its first
// code pages, and the image went on to 82 MiB of code after it. The module spans the mappings
// placed as the loader places segments (file offset from the header, plus alignment), hole or
// not; a mapping of the same file far away (V8 remaps its builtins so) is not the image. The
// module once ended at the hole, and Breakpad then named none of node's frames.
TEST(ElfIdentityTest, AnImageGoesOnPastAHoleToItsNextSegment) {
  struct stat st {};
  ASSERT_EQ(::stat(self_exe().c_str(), &st), 0);
  auto mapping = [&](uint64_t start, uint64_t end, uint64_t offset) {
    Region r;
    r.start = start;
    r.end = end;
    r.file_offset = offset;
    r.dev_major = 1;
    r.inode = st.st_ino;
    r.path = self_exe().c_str();
    r.type = RegionType::mapped;
    return r;
  };
  std::vector<Region> regions = {
      mapping(0x400000, 0x402000, 0),            // the header
      mapping(0x402000, 0x404000, 0x2000),       // adjacent
      mapping(0x405000, 0x410000, 0x5000),       // past a one-page hole
      mapping(0x611000, 0x612000, 0x10000),      // the data segment, 2 MiB of alignment on
      mapping(0x7f0000000000, 0x7f0000100000, 0x5000),  // the same code mapped again far away
  };
  attach_module_identities(::getpid(), regions);
  ASSERT_TRUE(regions[0].elf.has_value());
  EXPECT_EQ(regions[0].elf->load_address, 0x400000u);
  EXPECT_EQ(regions[0].elf->image_size, 0x612000u - 0x400000u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(regions[i].type, RegionType::image) << i;
  EXPECT_EQ(regions[4].type, RegionType::mapped);
}

TEST(ElfIdentityTest, RegionsWithoutFilesAreLeftAlone) {
  std::vector<Region> regions(2);
  regions[0].start = 0x1000;
  regions[0].end = 0x2000;
  regions[0].path = "[heap]";
  regions[1].start = 0x3000;
  regions[1].end = 0x4000;
  regions[1].inode = 12345;
  regions[1].file_offset = 0x1000;  // no offset-0 mapping: no module base
  regions[1].path = "/nonexistent/lib.so";
  regions[1].type = RegionType::mapped;
  attach_module_identities(::getpid(), regions);
  EXPECT_FALSE(regions[0].elf.has_value());
  EXPECT_FALSE(regions[1].elf.has_value());
  EXPECT_EQ(regions[1].type, RegionType::mapped);
}

}  // namespace
}  // namespace snapdump::os
