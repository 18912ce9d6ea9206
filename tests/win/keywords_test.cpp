// Microsoft's compiler keywords and SAL annotations, as Windows code uses them: in C++ here (this
// file includes <windows.h> before every other header, as Windows code does, and is built with
// -Wall -Wextra -Werror), in C in keywords_c.c. Then, with the compilers themselves: every
// annotation of sal.h in both languages, the compile errors __declspec gives for what it cannot
// do, and programs written with wmain, built the way the README says and run.
#include <windows.h>
#include <sal.h>
#include <specstrings.h>

// Standard headers after <windows.h>: its macros must break none of them.
#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <regex>  // with <windows.h> before it: <regex> uses __in and __out
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "support/external_readers.h"
#include "win/keywords_c.h"

// ---- the C++ uses ------------------------------------------------------------------------------

namespace kw {

typedef int(__stdcall* StdcallFn)(int);
int __cdecl twice(int x) { return 2 * x; }
int __stdcall thrice(int x) { return 3 * x; }
int __fastcall plus_one(int x) { return x + 1; }
int __vectorcall minus_one(int x) { return x - 1; }
int _cdecl zero(int x) { return x - x; }
int _stdcall same(int x) { return x; }
int _fastcall neg(int x) { return -x; }

class __declspec(dllexport) Exported {
 public:
  int value() const;
};
int Exported::value() const { return 1; }
class __declspec(dllimport) Imported;
class DECLSPEC_NOVTABLE NoVtableMacro;

// A COM-style interface: novtable, a uuid, STDMETHODCALLTYPE methods, SAL on the parameters.
struct __declspec(uuid("6B29FC40-CA47-1067-B31D-00DD010662DA")) __declspec(novtable) IShape {
  virtual HRESULT STDMETHODCALLTYPE Area(_Out_ int* area) const = 0;
  virtual HRESULT STDMETHODCALLTYPE Name(_Outptr_result_maybenull_ const char** name) const = 0;
  virtual ~IShape() = default;
};
struct DECLSPEC_UUID("00000000-0000-0000-C000-000000000046") Square : IShape {
  int side = 3;
  HRESULT STDMETHODCALLTYPE Area(_Out_ int* area) const override {
    *area = side * side;
    return S_OK;
  }
  HRESULT STDMETHODCALLTYPE Name(_Outptr_result_maybenull_ const char** name) const override {
    *name = "square";
    return S_OK;
  }
};
__pragma(pack(push, 1)) struct Packed {
  char c;
  int i;
};
__pragma(pack(pop))
struct Empty1 {};
struct Empty2 {};
struct __declspec(empty_bases) Both : Empty1, Empty2 {
  int x;
};
class __single_inheritance Single;
class __multiple_inheritance Multiple;
class __virtual_inheritance Virtual;
struct __declspec(align(32)) Aligned32 {
  char c;
};
struct DECLSPEC_CACHEALIGN CacheAligned {
  char c;
};

struct Members {
  __forceinline int get() const { return 7; }
  FORCEINLINE int get_macro() const { return 8; }
  int __thiscall method() const { return 2; }
  static int __cdecl static_method(int x) { return x; }
  static __declspec(thread) int per_thread;
};
__declspec(thread) int Members::per_thread = 1;
static DECLSPEC_THREAD int macro_thread = 5;

__declspec(noreturn) void fail(const char* why);
void fail(const char* why) {
  std::fprintf(stderr, "%s\n", why);
  std::abort();
}
// -Wreturn-type (in -Wall) fails this function unless fail() is known not to return.
int checked(int x) {
  if (x >= 0) return x;
  fail("negative");
}
__declspec(nothrow) int never_throws(int x);
int never_throws(int x) { return x; }
__declspec(restrict) void* allocate(size_t n) { return std::malloc(n); }
__declspec(noalias) int no_alias(const int* p) { return *p; }
__declspec(noinline) int not_inlined(int x) { return x + 1; }
__declspec(deprecated("use Square")) int old_api();
__declspec(deprecated) int older_api();
__declspec(allocate("snapdump_kw_cxx")) int in_section = 9;
__declspec(code_seg("snapdump_kw_cxx_text")) int in_code_section() { return 4; }
__declspec(safebuffers) int safe(int x) { return x; }
__declspec(no_sanitize_address) int unsanitized(int x) { return x; }
__declspec(allocator) void* custom_allocator(size_t n);
__declspec(spectre(nomitigation)) int unmitigated(int x);
__declspec(guard(ignore)) int unguarded(int x);
__declspec(hybrid_patchable) int patchable(int x);
__declspec(naked) void naked() { __asm__("ret"); }
__declspec() int plain();

static __forceinline int forced(int x) { return x * 10; }
__inline int old_inline(int x) { return x + 1; }

// SAL 1 in C++: __in, __out and __inout are defined only after the standard headers.
DWORD legacy(__in DWORD a, __out DWORD* b, __inout DWORD* c, __in_opt const char* d) {
  (void)d;
  *b = a;
  *c += a;
  return a;
}
_Check_return_ _Success_(return == 0) int sal2(_In_reads_(n) const int* in, _Out_writes_all_(n) int* out, _In_ int n,
                                               _Inout_ int& total, _Outref_result_maybenull_ int*& last) {
  for (int i = 0; i < n; ++i) total += out[i] = in[i];
  last = n ? out + n - 1 : nullptr;
  return 0;
}

}  // namespace kw

// The linker's bounds of the section kw::in_section is put in.
extern "C" char __start_snapdump_kw_cxx[], __stop_snapdump_kw_cxx[];

// Defined in keywords_c.c too: selectany keeps one of the two, where a plain definition in each
// would not link.
__declspec(selectany) int snapdump_kw_selectany = 42;

namespace {

std::string source_dir() { return SNAPDUMP_SOURCE_DIR; }

struct Macro {
  std::string name;
  bool function_like = false;
};

// The macros a header defines, in order: each line "#define NAME ..." or "#define NAME(...".
std::vector<Macro> defined_macros(const std::string& header) {
  std::vector<Macro> out;
  std::istringstream in(header);
  const std::string define = "#define ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(define, 0) != 0) continue;
    size_t end = define.size();
    while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) ++end;
    out.push_back({line.substr(define.size(), end - define.size()), end < line.size() && line[end] == '('});
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(WinKeywords, CxxUsesCompileAndKeepTheirMeaning) {
  EXPECT_EQ(sizeof(__int8), 1u);
  EXPECT_EQ(sizeof(__int16), 2u);
  EXPECT_EQ(sizeof(__int32), 4u);
  EXPECT_EQ(sizeof(__int64), 8u);
  // The same types as <windows.h> spells, as on Windows: pointers and overloads agree.
  EXPECT_TRUE((std::is_same_v<unsigned __int64, ULONGLONG>));
  EXPECT_TRUE((std::is_same_v<unsigned __int64, DWORD64>));
  EXPECT_TRUE((std::is_same_v<__int64, LONGLONG>));
  EXPECT_TRUE((std::is_same_v<unsigned __int32, DWORD>));
  EXPECT_TRUE((std::is_same_v<unsigned __int8, BYTE>));
  EXPECT_TRUE((std::is_same_v<__wchar_t, WCHAR>));
  EXPECT_TRUE((std::is_same_v<int* __ptr64, int*>));
  EXPECT_TRUE((std::is_same_v<int __unaligned*, int*>));
  EXPECT_TRUE((std::is_same_v<int* __sptr, int*>));
  EXPECT_TRUE((std::is_same_v<int* __uptr, int*>));
  EXPECT_TRUE((std::is_same_v<unsigned long __w64, unsigned long>));
  EXPECT_EQ(sizeof(kw::Packed), 5u) << "__pragma(pack(push, 1))";

  kw::StdcallFn fn = kw::thrice;
  EXPECT_EQ(fn(2), 6);
  EXPECT_EQ(kw::twice(2) + kw::plus_one(2) + kw::minus_one(2) + kw::zero(2) + kw::same(2) + kw::neg(2), 4 + 3 + 1 + 0 + 2 - 2);
  EXPECT_EQ(kw::Exported().value(), 1);

  kw::Square square;
  const kw::IShape& shape = square;
  int area = 0;
  const char* name = nullptr;
  EXPECT_EQ(shape.Area(&area), S_OK);
  EXPECT_EQ(shape.Name(&name), S_OK);
  EXPECT_EQ(area, 9);
  EXPECT_STREQ(name, "square");
  EXPECT_EQ(sizeof(kw::Both), sizeof(int));

  EXPECT_EQ(alignof(kw::Aligned32), 32u);
  EXPECT_EQ(alignof(kw::CacheAligned), 64u);
  kw::Members m;
  EXPECT_EQ(m.get() + m.get_macro() + m.method() + kw::Members::static_method(1), 7 + 8 + 2 + 1);
  // __declspec(thread): each thread has its own.
  kw::Members::per_thread = 10;
  kw::macro_thread = 50;
  int seen_member = 0, seen_macro = 0;
  std::thread([&] {
    seen_member = kw::Members::per_thread;
    seen_macro = kw::macro_thread;
    kw::Members::per_thread = 20;
  }).join();
  EXPECT_EQ(seen_member, 1);
  EXPECT_EQ(seen_macro, 5);
  EXPECT_EQ(kw::Members::per_thread, 10);

  EXPECT_EQ(kw::checked(3), 3);
  EXPECT_EQ(kw::never_throws(4), 4);
  void* p = kw::allocate(8);
  EXPECT_NE(p, nullptr);
  std::free(p);
  int one = 1;
  EXPECT_EQ(kw::no_alias(&one) + kw::not_inlined(1) + kw::in_code_section() + kw::safe(1) + kw::unsanitized(1), 1 + 2 + 4 + 1 + 1);
  auto* at = reinterpret_cast<char*>(&kw::in_section);
  EXPECT_TRUE(at >= __start_snapdump_kw_cxx && at < __stop_snapdump_kw_cxx) << "allocate() names the section";
  kw::naked();
  EXPECT_EQ(kw::forced(2) + kw::old_inline(2), 23);
  __assume(one == 1);
  __noop(one, std::abort());

  DWORD b = 0, c = 1;
  EXPECT_EQ(kw::legacy(5, &b, &c, nullptr), 5u);
  EXPECT_EQ(b + c, 5u + 6u);
  int in[3] = {1, 2, 3}, out[3], total = 0, *last = nullptr;
  EXPECT_EQ(kw::sal2(in, out, 3, total, last), 0);
  EXPECT_EQ(total, 6);
  EXPECT_EQ(last, out + 2);
}

TEST(WinKeywords, CUsesCompileAndKeepTheirMeaning) {
  snapdump_kw_selectany = 100;  // the C file sees this very variable
  snapdump_win_c_keyword_facts c{};
  ASSERT_EQ(snapdump_win_c_keywords(&c), 0);
  EXPECT_EQ(c.sizes[0], 1u);
  EXPECT_EQ(c.sizes[1], 2u);
  EXPECT_EQ(c.sizes[2], 4u);
  EXPECT_EQ(c.sizes[3], 8u);
  EXPECT_EQ(c.align_var, 0u) << "__declspec(align(64)) on a variable";
  EXPECT_EQ(c.align_type, 32u) << "__declspec(align(32)) on a struct";
  EXPECT_EQ(c.align_macros[0], 16u);
  EXPECT_EQ(c.align_macros[1], 64u);
  EXPECT_EQ(c.packed_size, 5u) << "__pragma(pack(push, 1))";
  EXPECT_EQ(c.thread_main, 1) << "the other thread changed its own copy only";
  EXPECT_EQ(c.thread_other, 2);
  EXPECT_EQ(c.forceinline_sum, 10 + 100 + 1001 + 10001);
  EXPECT_EQ(c.restrict_ok, 1);
  EXPECT_EQ(c.in_section, 1) << "__declspec(allocate(\"snapdump_kw\")) puts the variable in that section";
  EXPECT_EQ(c.selectany, 100) << "one __declspec(selectany) definition for C and C++";
  EXPECT_EQ(c.sal_result, 24);
  EXPECT_EQ(c.types_agree, 7);
  EXPECT_EQ(c.modified_pointers, 30);
  EXPECT_EQ(c.stdcall_pointer, 22);
}

// Every keyword msvc_keywords.h defines, and every __declspec modifier it knows, is used by the
// C++ uses above and (but for the C++-only ones) by keywords_c.c: a keyword added without a use
// fails here.
TEST(WinKeywords, TheTestsUseEveryKeywordAndModifier) {
  const std::string header = read_text(source_dir() + "/include/snapdump/win/msvc_keywords.h");
  const std::string cxx = read_text(source_dir() + "/tests/win/keywords_test.cpp");
  const std::string c = read_text(source_dir() + "/tests/win/keywords_c.c");
  ASSERT_FALSE(header.empty());
  const std::set<std::string> cxx_only = {"__single_inheritance", "__multiple_inheritance", "__virtual_inheritance"};
  int keywords = 0, modifiers = 0;
  const std::string prefix = "SNAPDUMP_WIN_DECLSPEC_";
  for (const Macro& m : defined_macros(header)) {
    const std::string& name = m.name;
    auto lower = [&](size_t i) { return i < name.size() && std::islower(static_cast<unsigned char>(name[i])); };
    if (name.rfind(prefix, 0) == 0 && lower(prefix.size())) {
      std::string use = "__declspec(" + name.substr(prefix.size());
      ++modifiers;
      EXPECT_NE(cxx.find(use), std::string::npos) << use << ") has no C++ use";
      EXPECT_NE(c.find(use), std::string::npos) << use << ") has no C use";
      continue;
    }
    // The keywords: _cdecl, __int64, ... (not the upper-case macros of windef.h and winnt.h)
    size_t first = name.find_first_not_of('_');
    if (name[0] != '_' || first > 2 || !lower(first)) continue;
    if (name == "__declspec") continue;  // used with each modifier
    ++keywords;
    EXPECT_NE(cxx.find(name), std::string::npos) << name << " has no C++ use";
    if (!cxx_only.count(name)) {
      EXPECT_NE(c.find(name), std::string::npos) << name << " has no C use";
    }
  }
  EXPECT_GE(keywords, 20);
  EXPECT_GE(modifiers, 20);
}

// ---- with the compilers ------------------------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/snapdump-keywords-XXXXXX";
    if (::mkdtemp(pattern)) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    return file;
  }

 private:
  std::string path_;
};

std::vector<std::string> split_flags(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// `cc prog.c $(pkg-config --cflags --libs snapdump-win)`, with this build tree's headers and
// static libraries in place of an installed tree's (tests/install/run.sh runs the real one).
snapdump::testing::CommandResult build(const std::string& compiler, const std::vector<std::string>& sources,
                                       const std::string& out, bool link = true, bool libraries_first = false) {
  std::vector<std::string> argv = {compiler, "-Wall", "-Wextra", "-Werror"};
  std::vector<std::string> libraries = {"-L" SNAPDUMP_LIB_DIR, "-lsnapdump_wmain", "-l:libsnapdump.a", "-lfmt",
                                        "-lstdc++", "-lm"};
  for (const std::string& flag : split_flags(SNAPDUMP_SANITIZE_FLAGS)) argv.push_back(flag);
  argv.push_back("-I" + source_dir() + "/include/snapdump/win");
  argv.push_back("-I" + source_dir() + "/include");
  if (link && libraries_first) argv.insert(argv.end(), libraries.begin(), libraries.end());
  argv.insert(argv.end(), sources.begin(), sources.end());
  if (!link) argv.push_back("-c");
  if (link && !libraries_first) argv.insert(argv.end(), libraries.begin(), libraries.end());
  argv.push_back("-o");
  argv.push_back(out);
  return snapdump::testing::run_command(argv, 180000);
}

// Every annotation of sal.h, in a parameter position, in C and in C++ (whose standard headers
// follow <windows.h>): each is defined and leaves valid code.
TEST(WinKeywords, EverySalAnnotationCompilesInCAndCxx) {
  const std::string header = read_text(source_dir() + "/include/snapdump/win/sal.h");
  std::string uses;
  int count = 0;
  for (const Macro& m : defined_macros(header)) {
    if (m.name[0] != '_') continue;  // the header's own guard
    std::string use = m.function_like ? m.name + "(count, 1)" : m.name;
    uses += "int use_" + std::to_string(count++) + "(" + use + " int* p, int count);\n";
  }
  ASSERT_GE(count, 250);
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string prologue = "#include <windows.h>\n#include <sal.h>\n";
  std::string c = dir.write("sal.c", prologue + uses + "#include <stdio.h>\n#include <stdlib.h>\n#include <sys/stat.h>\n");
  std::string cxx = dir.write("sal.cpp", prologue + uses + "#include <iostream>\n#include <regex>\n#include <thread>\n");
  auto built_c = build(SNAPDUMP_CC, {"-std=c11", c}, dir.path() + "/sal_c.o", false);
  EXPECT_EQ(built_c.exit_code, 0) << built_c.err;
  auto built_cxx = build(SNAPDUMP_CXX, {"-std=c++20", cxx}, dir.path() + "/sal_cxx.o", false);
  EXPECT_EQ(built_cxx.exit_code, 0) << built_cxx.err;
}

// What __declspec cannot do fails to compile, and the message names why.
TEST(WinKeywords, DeclspecMistakesFailToCompileNamingTheCause) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  struct Case {
    const char* code;
    const char* named;
  } cases[] = {
      {"__declspec(dllexport noreturn) void f(void);", "SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME"},
      {"struct S { __declspec(property(get = g)) int p; };", "SNAPDUMP_WIN_DECLSPEC_property"},
  };
  for (const Case& k : cases) {
    std::string file = dir.write("bad.c", std::string("#include <windows.h>\n") + k.code + "\n");
    auto built = build(SNAPDUMP_CC, {"-std=c11", file}, dir.path() + "/bad.o", false);
    EXPECT_NE(built.exit_code, 0) << k.code;
    EXPECT_NE(built.err.find(k.named), std::string::npos) << k.code << "\n" << built.err;
  }
}

std::string code_points(const std::wstring& text) {
  std::string out;
  char hex[16];
  for (wchar_t c : text) {
    std::snprintf(hex, sizeof hex, out.empty() ? "%lx" : " %lx", static_cast<unsigned long>(c));
    out += hex;
  }
  return out + "\n";
}

// A program whose only entry point is `int __cdecl wmain(int argc, wchar_t* argv[])` builds with
// the README's command line and gets its arguments as wchar_t: UTF-8 decoded, an invalid byte as
// U+FFFD, as the W entry points convert names. Its return value is the exit code.
TEST(WinKeywords, WmainProgramsBuildAsTheReadmeSaysAndGetTheirArguments) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::vector<std::string> args = {"plain", "caf\xc3\xa9 \xe4\xb8\x96\xe7\x95\x8c", "bad\xff", ""};
  const std::string expected = code_points(L"plain") + code_points(L"caf\u00e9 \u4e16\u754c") +
                               code_points(L"bad\ufffd") + "\n";
  auto run = [&](const std::string& program) {
    std::vector<std::string> argv = {program};
    argv.insert(argv.end(), args.begin(), args.end());
    return snapdump::testing::run_command(argv);
  };

  // Microsoft's sample shape, in C.
  std::string c_program = dir.path() + "/wmain_c";
  auto built = build(SNAPDUMP_CC, {"-std=c11", source_dir() + "/tests/win/wmain_sample.c"}, c_program);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto ran = run(c_program);
  EXPECT_EQ(ran.exit_code, 5) << ran.err;
  EXPECT_EQ(ran.out, expected);

  // The same program built by CMake, linking the target snapdump_win.
  ran = run(WMAIN_SAMPLE_PATH);
  EXPECT_EQ(ran.exit_code, 5) << ran.err;
  EXPECT_EQ(ran.out, expected);

  // The same in C++: <windows.h> gives wmain C linkage, as Microsoft's compiler does.
  std::string cxx = dir.write("wmain.cpp", R"(#include <windows.h>
#include <cstdio>
int __cdecl wmain(int argc, wchar_t* argv[]) {
  for (int i = 1; i < argc; ++i) {
    for (const wchar_t* p = argv[i]; *p; ++p) std::printf(p == argv[i] ? "%lx" : " %lx", (unsigned long)*p);
    std::printf("\n");
  }
  return argc;
}
)");
  std::string cxx_program = dir.path() + "/wmain_cxx";
  built = build(SNAPDUMP_CXX, {"-std=c++20", cxx}, cxx_program);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  ran = run(cxx_program);
  EXPECT_EQ(ran.exit_code, 5) << ran.err;
  EXPECT_EQ(ran.out, expected);

  // The three-argument form gets the environment as wchar_t too.
  std::string env = dir.write("wmain_env.c", R"(#include <windows.h>
#include <stdio.h>
int __cdecl wmain(int argc, wchar_t* argv[], wchar_t* envp[]) {
  (void)argc; (void)argv;
  for (wchar_t** e = envp; *e; ++e) {
    if (wcsncmp(*e, L"SNAPDUMP_WMAIN_VALUE=", 21) == 0) {
      for (const wchar_t* p = *e + 21; *p; ++p) printf(p == *e + 21 ? "%lx" : " %lx", (unsigned long)*p);
      printf("\n");
      return 0;
    }
  }
  return 1;
}
)");
  std::string env_program = dir.path() + "/wmain_env";
  built = build(SNAPDUMP_CC, {"-std=c11", env}, env_program);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  ::setenv("SNAPDUMP_WMAIN_VALUE", "\xc3\xa9t\xc3\xa9", 1);
  ran = snapdump::testing::run_command({env_program});
  ::unsetenv("SNAPDUMP_WMAIN_VALUE");
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, code_points(L"\u00e9t\u00e9"));
}

// A program with its own main keeps it, wherever the libraries come on the command line; one with
// neither main nor wmain gets a message saying so.
TEST(WinKeywords, AProgramsOwnMainWinsAndAProgramWithoutEitherSaysSo) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string with_main = dir.write("main.c", "#include <windows.h>\n#include <stdio.h>\n"
                                              "int main(int argc, char** argv) { (void)argv; puts(\"own main\"); return argc; }\n");
  for (bool first : {false, true}) {
    std::string program = dir.path() + (first ? "/main_after" : "/main_before");
    auto built = build(SNAPDUMP_CC, {"-std=c11", with_main}, program, true, first);
    ASSERT_EQ(built.exit_code, 0) << built.err;
    auto ran = snapdump::testing::run_command({program, "x"});
    EXPECT_EQ(ran.exit_code, 2) << (first ? "libraries first" : "libraries last");
    EXPECT_EQ(ran.out, "own main\n");
  }
  std::string neither = dir.write("neither.c", "#include <windows.h>\nint helper(void);\nint helper(void) { return 0; }\n");
  std::string program = dir.path() + "/neither";
  auto built = build(SNAPDUMP_CC, {"-std=c11", neither}, program);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto ran = snapdump::testing::run_command({program});
  EXPECT_EQ(ran.exit_code, 127);
  EXPECT_NE(ran.err.find("defines neither main nor wmain"), std::string::npos) << ran.err;
}

}  // namespace
