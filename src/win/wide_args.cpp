// The wchar_t argv and envp a wmain program gets (src/win/entry/wmain.c).
#include "win/wide_args.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "win/wide.h"

extern "C" wchar_t** snapdump_win_wide_strings(char** strings) {
  size_t count = 0;
  while (strings && strings[count]) ++count;
  // One block for the pointers and the strings: it is never freed (argv lives as long as the
  // program), and one block is one allocation to fail.
  std::wstring all;
  for (size_t i = 0; i < count; ++i) {
    all += snapdump::win::widen(strings[i]);
    all.push_back(L'\0');
  }
  size_t pointers = (count + 1) * sizeof(wchar_t*);
  auto* block = static_cast<char*>(std::malloc(pointers + all.size() * sizeof(wchar_t)));
  if (!block) return nullptr;
  auto** out = reinterpret_cast<wchar_t**>(block);
  auto* text = reinterpret_cast<wchar_t*>(block + pointers);
  std::memcpy(text, all.data(), all.size() * sizeof(wchar_t));
  for (size_t i = 0; i < count; ++i) {
    out[i] = text;
    text += std::wcslen(text) + 1;
  }
  out[count] = nullptr;
  return out;
}
