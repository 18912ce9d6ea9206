// The reader on Token streams and CONTEXT_EX contexts built byte by byte: what they hold, and
// every size and offset in them lying.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "snapdump/reader.h"
#include "unit/dump_bytes.h"

namespace snapdump::reader {
namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A dump with one Token stream of the given entries (id, text).
std::vector<uint8_t> token_dump(const std::vector<std::pair<uint32_t, std::string>>& tokens) {
  Builder b;
  b.stream(StreamType::Token, [&] {
    uint32_t total = sizeof(format::TokenInfoListHeader);
    for (const auto& [id, text] : tokens) total += static_cast<uint32_t>(sizeof(format::TokenInfoHeader) + text.size());
    b.put(format::TokenInfoListHeader{total, static_cast<uint32_t>(tokens.size()), sizeof(format::TokenInfoListHeader),
                                      sizeof(format::TokenInfoHeader)});
    for (const auto& [id, text] : tokens) {
      b.put(format::TokenInfoHeader{static_cast<uint32_t>(sizeof(format::TokenInfoHeader) + text.size()), id, 0});
      b.put_bytes(text.data(), text.size());
    }
  });
  return b.finish();
}

TEST(ReaderToken, EntriesAndTheirData) {
  auto bytes = token_dump({{0, "Uid:\t0\t0\t0\t0\n"}, {7, "CapEff:\t0\n"}});
  seed("tokens", bytes);
  auto d = Minidump::from_bytes(bytes);
  auto tokens = d.tokens();
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0].id, 0u);
  EXPECT_EQ(std::string(tokens[0].data.begin(), tokens[0].data.end()), "Uid:\t0\t0\t0\t0\n");
  EXPECT_EQ(tokens[1].id, 7u);
  EXPECT_EQ(std::string(tokens[1].data.begin(), tokens[1].data.end()), "CapEff:\t0\n");
  EXPECT_TRUE(d.problems().empty()) << joined(d.problems());
}

TEST(ReaderToken, LyingSizesAreProblemsNotCrashes) {
  auto base = token_dump({{0, "Uid:\t0\n"}, {1, "Gid:\t0\n"}});
  uint32_t stream_rva = 0;
  std::memcpy(&stream_rva, base.data() + sizeof(format::Header) + 8, 4);
  constexpr size_t kFirstEntry = sizeof(format::TokenInfoListHeader);
  {
    // The second entry claims more bytes than the stream holds: the first is kept.
    auto bytes = base;
    size_t second = stream_rva + kFirstEntry + sizeof(format::TokenInfoHeader) + 7;
    patch<uint32_t>(bytes, second, 0x10000);
    auto d = Minidump::from_bytes(bytes);
    EXPECT_EQ(d.tokens().size(), 1u);
    EXPECT_NE(joined(d.problems()).find("entry 1 of 2 does not fit"), std::string::npos) << joined(d.problems());
  }
  {
    // A billion entries announced: the walk stops at the end of the stream.
    auto bytes = base;
    patch<uint32_t>(bytes, stream_rva + 4, 1000000000u);
    auto d = Minidump::from_bytes(bytes);
    EXPECT_EQ(d.tokens().size(), 2u);
    EXPECT_FALSE(d.problems().empty());
  }
  {
    // An entry smaller than its own header.
    auto bytes = base;
    patch<uint32_t>(bytes, stream_rva + kFirstEntry, 3u);
    auto d = Minidump::from_bytes(bytes);
    EXPECT_TRUE(d.tokens().empty());
    EXPECT_FALSE(d.problems().empty());
  }
  {
    // A header size beyond the stream.
    auto bytes = base;
    patch<uint32_t>(bytes, stream_rva + 8, 0xffffff00u);
    auto d = Minidump::from_bytes(bytes);
    EXPECT_TRUE(d.tokens().empty());
    EXPECT_NE(joined(d.problems()).find("header sizes"), std::string::npos) << joined(d.problems());
  }
}

// A CONTEXT_EX context with an AVX feature of 256 bytes valued i ^ 0x33, laid out as the writer
// lays it out, and the MiscInfo that describes it.
struct XStateBlob {
  std::vector<uint8_t> context;
  MiscInfoView misc{};
};

XStateBlob xstate_blob() {
  constexpr size_t kXStateAt = 1280, kHeader = 64, kAvxOffset = 576, kAvxSize = 256;
  XStateBlob b;
  b.context.resize(kXStateAt + kHeader + kAvxSize);
  format::ContextAmd64 c{};
  c.context_flags = format::context_flags::kAll | format::context_flags::kXState;
  std::memcpy(b.context.data(), &c, sizeof c);
  format::ContextEx ex{{-1232, static_cast<uint32_t>(b.context.size())}, {-1232, 1232},
                       {static_cast<int32_t>(kXStateAt - 1232), static_cast<uint32_t>(kHeader + kAvxSize)}};
  std::memcpy(b.context.data() + 1232, &ex, sizeof ex);
  uint64_t xstate_bv = 0x7;
  std::memcpy(b.context.data() + kXStateAt, &xstate_bv, sizeof xstate_bv);
  for (size_t i = 0; i < kAvxSize; ++i) b.context[kXStateAt + kHeader + i] = static_cast<uint8_t>(i ^ 0x33);
  b.misc.xstate_enabled_features = 0x7;
  b.misc.xstate_context_size = static_cast<uint32_t>(b.context.size());
  b.misc.xstate_features[2] = {static_cast<uint32_t>(kAvxOffset), static_cast<uint32_t>(kAvxSize)};
  return b;
}

TEST(ReaderXState, FindsTheAvxFeature) {
  XStateBlob b = xstate_blob();
  auto avx = xstate_feature(b.context, b.misc, 2);
  ASSERT_TRUE(avx.has_value());
  ASSERT_EQ(avx->size(), 256u);
  for (size_t i = 0; i < avx->size(); ++i) EXPECT_EQ((*avx)[i], static_cast<uint8_t>(i ^ 0x33)) << i;
}

TEST(ReaderXState, InitialStateReadsAsZeros) {
  XStateBlob b = xstate_blob();
  uint64_t xstate_bv = 0x3;  // AVX in its initial state: the bytes in the area mean nothing
  std::memcpy(b.context.data() + 1280, &xstate_bv, sizeof xstate_bv);
  auto avx = xstate_feature(b.context, b.misc, 2);
  ASSERT_TRUE(avx.has_value());
  EXPECT_EQ(*avx, std::vector<uint8_t>(256, 0));
}

TEST(ReaderXState, EveryBadOffsetGivesNothing) {
  XStateBlob good = xstate_blob();
  EXPECT_FALSE(xstate_feature(good.context, good.misc, 3).has_value()) << "a feature not enabled";
  EXPECT_FALSE(xstate_feature(good.context, good.misc, 64).has_value());
  EXPECT_FALSE(xstate_feature(std::span(good.context).first(1240), good.misc, 2).has_value()) << "truncated";
  {
    XStateBlob b = xstate_blob();
    b.misc.xstate_features[2].offset = 0x7fffff00;
    EXPECT_FALSE(xstate_feature(b.context, b.misc, 2).has_value());
  }
  {
    XStateBlob b = xstate_blob();
    b.misc.xstate_features[2].offset = 100;  // inside the legacy area the chunk leaves out
    EXPECT_FALSE(xstate_feature(b.context, b.misc, 2).has_value());
  }
  for (int32_t offset : {-2000, 100000, INT32_MIN}) {
    XStateBlob b = xstate_blob();
    format::ContextEx ex;
    std::memcpy(&ex, b.context.data() + 1232, sizeof ex);
    ex.xstate.offset = offset;
    std::memcpy(b.context.data() + 1232, &ex, sizeof ex);
    EXPECT_FALSE(xstate_feature(b.context, b.misc, 2).has_value()) << offset;
  }
  {
    XStateBlob b = xstate_blob();
    b.context[48] &= ~0x40;  // CONTEXT_XSTATE not set in ContextFlags
    EXPECT_FALSE(xstate_feature(b.context, b.misc, 2).has_value());
  }
  {
    XStateBlob b = xstate_blob();
    b.misc.xstate_enabled_features.reset();  // no XStateData in MiscInfo
    EXPECT_FALSE(xstate_feature(b.context, b.misc, 2).has_value());
  }
}

}  // namespace
}  // namespace snapdump::reader
