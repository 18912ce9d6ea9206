// MiniDumpWithAvxXStateContext: thread contexts in the CONTEXT_EX form Windows uses for
// extended processor state (AVX, AVX-512, ...), and MINIDUMP_MISC_INFO_5's XStateData that
// says where each feature lies.
//
// A context blob is [CONTEXT 1232][CONTEXT_EX 24][pad to 64][XSAVE header + components]. The
// CONTEXT_EX chunks are offsets from the CONTEXT_EX itself: All and Legacy start at the CONTEXT
// (-1232), XState at the XSAVE header. The legacy 512-byte FXSAVE image is not repeated: it is
// CONTEXT.FltSave. Components are in the standard (non-compacted) layout ptrace returns, so
// feature i lies at XState - 512 + XStateData.Features[i].Offset, as on Windows.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "snapdump/format/structs.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::writer {

// The CONTEXT_EX form of `thread`'s registers, or nullopt when it has no XSAVE area (a thread
// left running or exited, or a CPU without XSAVE): such a thread keeps the plain CONTEXT.
std::optional<std::vector<uint8_t>> xstate_context(const ThreadEntry& thread, const format::ContextAmd64& plain);
// The same from an XSAVE area as NT_X86_XSTATE holds it (a core's, a view's).
std::optional<std::vector<uint8_t>> xstate_context(std::span<const uint8_t> xsave, const format::ContextAmd64& plain);

// XSTATE_CONFIG_FEATURE_MSC_INFO for the XSAVE areas of `threads`: the features the kernel
// enabled (XCR0, from the area's software-reserved bytes) with their CPUID offsets and sizes,
// and the size of one context blob. nullopt if no thread has an XSAVE area.
std::optional<format::XStateConfigFeatureMscInfo> xstate_config(std::span<const ThreadEntry> threads);
// The same from one XSAVE area (every thread of a process has the same features enabled).
std::optional<format::XStateConfigFeatureMscInfo> xstate_config(std::span<const uint8_t> sample_xsave);

}  // namespace snapdump::writer
