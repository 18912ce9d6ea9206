// SystemInfo, MiscInfo and Breakpad's Linux text streams.
#include <cpuid.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "writer/streams.h"
#include "writer/xstate_context.h"

namespace snapdump::writer {
namespace {

std::string system_file(const char* path) {
  try {
    return os::read_text_file(path);
  } catch (const Error&) {
    return "";
  }
}

void add_text(WriteContext& ctx, format::StreamType type, std::string_view text) {
  if (text.empty()) return;
  uint32_t rva = ctx.builder.append(text.data(), text.size());
  ctx.builder.add_stream(type, rva, static_cast<uint32_t>(text.size()));
}

}  // namespace

void write_system_info(WriteContext& ctx) {
  format::SystemInfo s{};
  s.processor_architecture = format::kArchitectureAmd64;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
    s.cpu.vendor_id[0] = ebx, s.cpu.vendor_id[1] = edx, s.cpu.vendor_id[2] = ecx;
  }
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
    unsigned family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
    if (family == 0xf) family += (eax >> 20) & 0xff;
    if (family == 0x6 || family >= 0xf) model += ((eax >> 16) & 0xf) << 4;
    s.processor_level = static_cast<uint16_t>(family);
    s.processor_revision = static_cast<uint16_t>((model << 8) | (eax & 0xf));
    s.cpu.version_information = eax;
    s.cpu.feature_information = edx;
  }
  if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx)) s.cpu.amd_extended_cpu_features = edx;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  s.number_of_processors = static_cast<uint8_t>(cpus > 255 ? 255 : (cpus < 1 ? 1 : cpus));
  s.platform_id = format::kPlatformLinux;
  struct utsname u {};
  uname(&u);
  // "6.18.44-foo" -> 6, 18, 44: the kernel version in the Windows version fields.
  unsigned major = 0, minor = 0, build = 0;
  std::sscanf(u.release, "%u.%u.%u", &major, &minor, &build);
  s.major_version = major, s.minor_version = minor, s.build_number = build;
  // Readers that do not know PlatformId 0x8201 still find "Linux" here (LLDB checks it).
  s.csd_version_rva = ctx.builder.append_string(fmt::format("{} {} {} {}", u.sysname, u.release, u.version, u.machine));
  uint32_t rva = ctx.builder.append(s);
  ctx.builder.add_stream(format::StreamType::SystemInfo, rva, sizeof s);
}

namespace {

// MINIDUMP_MISC_INFO_2's processor power fields: Linux gives the frequency (cpufreq where the
// driver exposes it, else the "cpu MHz" of /proc/cpuinfo); idle states are not reported.
void fill_power_info(format::MiscInfo5& m) {
  auto khz_file = [](const char* path) -> uint32_t {
    std::string text = system_file(path);
    return text.empty() ? 0 : static_cast<uint32_t>(std::strtoul(text.c_str(), nullptr, 10) / 1000);
  };
  uint32_t current = khz_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq");
  uint32_t max = khz_file("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
  uint32_t limit = khz_file("/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq");
  if (current == 0) {
    std::string cpuinfo = system_file("/proc/cpuinfo");
    size_t at = cpuinfo.find("cpu MHz");
    if (at != std::string::npos && (at = cpuinfo.find(':', at)) != std::string::npos) {
      current = static_cast<uint32_t>(std::strtod(cpuinfo.c_str() + at + 1, nullptr));
    }
  }
  if (current == 0) return;
  m.flags1 |= format::misc::kProcessorPowerInfo;
  m.processor_current_mhz = current;
  m.processor_max_mhz = max ? max : current;
  m.processor_mhz_limit = limit ? limit : m.processor_max_mhz;
}

}  // namespace

void write_misc_info(WriteContext& ctx) {
  const ProcessInfo& p = ctx.snapshot.process();
  format::MiscInfo5 m{};
  m.size_of_info = format::kMiscInfo5Size;
  m.flags1 = format::misc::kProcessId | format::misc::kProcessTimes;
  m.process_id = static_cast<uint32_t>(p.pid);
  m.process_create_time = static_cast<uint32_t>(p.create_time_unix_ns / 1'000'000'000u);
  m.process_user_time = static_cast<uint32_t>(p.user_time_ns / 1'000'000'000u);
  m.process_kernel_time = static_cast<uint32_t>(p.kernel_time_ns / 1'000'000'000u);
  if (!(ctx.plan.secondary_flags & secondary::kWithoutPowerInfo)) fill_power_info(m);
  if (ctx.options.type & dump::kWithAvxXStateContext) {
    if (auto config = xstate_config(ctx.snapshot.threads())) m.xstate_data = *config;
  }
  uint32_t rva = ctx.builder.append(m);
  ctx.builder.add_stream(format::StreamType::MiscInfo, rva, sizeof m);
}

void write_linux_streams(WriteContext& ctx) {
  const ProcessInfo& p = ctx.snapshot.process();
  // LLDB takes the PID from here when MiscInfo lacks it (older versions require it here).
  add_text(ctx, format::StreamType::LinuxProcStatus, p.status_text);
  add_text(ctx, format::StreamType::LinuxMaps, p.maps_text);
  // A triage dump is meant to be shared: no command line or environment in it.
  bool triage = ctx.options.type & dump::kFilterTriage;
  if (!triage) add_text(ctx, format::StreamType::LinuxCmdLine, p.cmdline_raw);
  add_text(ctx, format::StreamType::LinuxAuxv, p.auxv_raw);
  add_text(ctx, format::StreamType::LinuxCpuInfo, system_file("/proc/cpuinfo"));
  std::string release = system_file("/etc/lsb-release");
  add_text(ctx, format::StreamType::LinuxLsbRelease, release.empty() ? system_file("/etc/os-release") : release);
  // The environment can hold secrets: it is optional data.
  if (!triage && !(ctx.options.type & dump::kWithoutOptionalData)) add_text(ctx, format::StreamType::LinuxEnviron, p.environ_raw);
}

}  // namespace snapdump::writer
