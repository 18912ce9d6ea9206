#include "writer/xstate_context.h"

#include <cpuid.h>

#include <cstring>

#include "snapdump/format/constants.h"

namespace snapdump::writer {
namespace {

constexpr size_t kLegacyArea = 512;   // the FXSAVE image at the start of every XSAVE area
constexpr size_t kXsaveHeader = 64;   // XSTATE_BV, XCOMP_BV, reserved
constexpr size_t kXStateAt = 1280;    // 1232 + 24 rounded up to 64, from the CONTEXT's start
static_assert(kXStateAt >= sizeof(format::ContextAmd64) + sizeof(format::ContextEx) && kXStateAt % 64 == 0);

// The ptrace ABI of NT_X86_XSTATE (asm/user.h): the first 8 software-usable bytes of the FXSAVE
// image, at 464, hold the XCR0 the kernel enabled for user space.
constexpr size_t kXcr0At = 464;

std::optional<uint64_t> enabled_features(std::span<const uint8_t> xsave) {
  if (xsave.size() < kLegacyArea + kXsaveHeader) return std::nullopt;
  uint64_t xcr0;
  std::memcpy(&xcr0, xsave.data() + kXcr0At, sizeof xcr0);
  // x87 is always enabled where XSAVE is: anything else is not the layout we know.
  if (!(xcr0 & 1)) return std::nullopt;
  return xcr0;
}

}  // namespace

std::optional<std::vector<uint8_t>> xstate_context(const ThreadEntry& t, const format::ContextAmd64& plain) {
  if (t.capture != ThreadCapture::stopped) return std::nullopt;
  return xstate_context(std::span<const uint8_t>(t.xsave), plain);
}

std::optional<std::vector<uint8_t>> xstate_context(std::span<const uint8_t> xsave, const format::ContextAmd64& plain) {
  if (xsave.size() < kLegacyArea + kXsaveHeader) return std::nullopt;
  size_t xstate_bytes = xsave.size() - kLegacyArea;
  std::vector<uint8_t> blob(kXStateAt + xstate_bytes);
  format::ContextAmd64 c = plain;
  c.context_flags |= format::context_flags::kXState;
  std::memcpy(blob.data(), &c, sizeof c);
  format::ContextEx ex{};
  ex.all = {-static_cast<int32_t>(sizeof c), static_cast<uint32_t>(blob.size())};
  ex.legacy = {-static_cast<int32_t>(sizeof c), static_cast<uint32_t>(sizeof c)};
  ex.xstate = {static_cast<int32_t>(kXStateAt - sizeof c), static_cast<uint32_t>(xstate_bytes)};
  std::memcpy(blob.data() + sizeof c, &ex, sizeof ex);
  std::memcpy(blob.data() + kXStateAt, xsave.data() + kLegacyArea, xstate_bytes);
  return blob;
}

std::optional<format::XStateConfigFeatureMscInfo> xstate_config(std::span<const ThreadEntry> threads) {
  for (const ThreadEntry& t : threads) {
    if (t.capture == ThreadCapture::stopped && enabled_features(t.xsave)) return xstate_config(std::span<const uint8_t>(t.xsave));
  }
  return std::nullopt;
}

std::optional<format::XStateConfigFeatureMscInfo> xstate_config(std::span<const uint8_t> sample) {
  std::optional<uint64_t> enabled = enabled_features(sample);
  if (!enabled) return std::nullopt;
  format::XStateConfigFeatureMscInfo info{};
  info.size_of_info = sizeof info;
  info.context_size = static_cast<uint32_t>(kXStateAt + sample.size() - kLegacyArea);
  info.enabled_features = *enabled;
  // Windows describes the legacy features inside the FXSAVE image: x87 state is its first 160
  // bytes, SSE (XMM registers and MXCSR) the 256 after them.
  info.features[0] = {0, 160};
  info.features[1] = {160, 256};
  for (unsigned i = 2; i < 64; ++i) {
    if (!(info.enabled_features & (uint64_t{1} << i))) continue;
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    // CPUID leaf 0xD sub-leaf i: EAX = the component's size, EBX = its offset in the standard
    // XSAVE layout, the layout ptrace returns.
    if (!__get_cpuid_count(0xD, i, &eax, &ebx, &ecx, &edx)) continue;
    info.features[i] = {ebx, eax};
  }
  return info;
}

}  // namespace snapdump::writer
