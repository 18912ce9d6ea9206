/* Microsoft's compiler keywords and SAL annotations as Windows C code writes them, compiled as
 * C11 with -Wall -Wextra -Werror: each is accepted, and those with a meaning on GCC have it (the
 * test reads what they did through snapdump_win_c_keywords). The C++ side is keywords_test.cpp;
 * keywords_test.cpp also compiles every SAL annotation and a wmain program with the compiler. */
#include <windows.h>
#include <sal.h>
#include <specstrings.h>

/* System headers after <windows.h>: none of them may be broken by its macros. */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <thread_db.h>
#include <unistd.h>

#include "keywords_c.h"

/* ---- calling conventions, as headers and callbacks spell them ---- */
typedef int(__stdcall* STDCALL_FN)(int);
typedef int(WINAPI* WINAPI_FN)(int);
static int __cdecl twice(int x) { return 2 * x; }
static int __stdcall thrice(int x) { return 3 * x; }
static int __fastcall plus_one(int x) { return x + 1; }
static int __vectorcall minus_one(int x) { return x - 1; }
static int _cdecl zero(int x) { return x - x; }
static int _stdcall same(int x) { return x; }
static int _fastcall neg(int x) { return -x; }
static int CALLBACK callback(int x) { return x; }
static int APIENTRY entry(int x) { return x; }
static int NTAPI nt(int x) { return x; }
static int WINAPIV variadic_convention(int x) { return x; }
static int __thiscall this_call(int x) { return x; }

/* ---- integer types: unsigned __int64 is ULONGLONG, as on Windows ---- */
static unsigned __int64 big = 0xffffffffffffffffull;
static ULONGLONG* as_ulonglong = &big;
static __int64 signed_big = -1;
static LONGLONG* as_longlong = &signed_big;
static DWORD64* as_dword64 = &big;
static unsigned __int32 u32 = 0xffffffffu;
static DWORD* as_dword = &u32;
static unsigned __int8 u8 = 0xff;
static BYTE* as_byte = &u8;
static __int16 s16 = -1;
static __wchar_t wide_char = L'x';

/* ---- pointer and type modifiers ---- */
static int target_int = 5;
static int* __ptr64 p64 = &target_int;
static int __unaligned* unaligned_p = &target_int;
typedef unsigned long __w64 W64_ULONG;
static int* UNALIGNED unaligned_macro = &target_int;
static int* POINTER_64 pointer_64 = &target_int;
static int* __sptr signed_pointer = &target_int;
static int* __uptr unsigned_pointer = &target_int;

/* ---- __declspec ---- */
__declspec(dllexport) int snapdump_kw_exported(void);
__declspec(dllexport) int snapdump_kw_exported(void) { return 1; }
__declspec(dllimport) int snapdump_kw_imported(void);
DECLSPEC_IMPORT int snapdump_kw_imported_macro(void);
__declspec(noreturn) void snapdump_kw_fail(const char* why);
DECLSPEC_NORETURN void snapdump_kw_fail_macro(void);
__declspec(nothrow) int snapdump_kw_nothrow(void);
__declspec(noinline) static int not_inlined(int x) { return x + 1; }
DECLSPEC_NOINLINE static int not_inlined_macro(int x) { return x + 2; }
__declspec(align(64)) static char aligned_var[3];
typedef struct __declspec(align(32)) { char c; } ALIGNED32;
typedef struct DECLSPEC_ALIGN(16) { char c; } ALIGNED16;
typedef struct DECLSPEC_CACHEALIGN { char c; } CACHEALIGNED;
static __declspec(thread) int per_thread = 1;
__declspec(thread) int snapdump_kw_tls_global;
extern __declspec(thread) int snapdump_kw_tls_global;
__declspec(selectany) int snapdump_kw_selectany = 42; /* keywords_test.cpp defines it too */
__declspec(deprecated) int snapdump_kw_old(void);
__declspec(deprecated("use snapdump_kw_new")) int snapdump_kw_older(void);
DECLSPEC_DEPRECATED int snapdump_kw_old_macro(void);
__declspec(restrict) static void* allocate(size_t n) { return malloc(n); }
DECLSPEC_RESTRICT void* snapdump_kw_allocate_macro(size_t n);
__declspec(noalias) int snapdump_kw_noalias(int* p);
DECLSPEC_NOALIAS int snapdump_kw_noalias_macro(int* p);
__declspec(allocate("snapdump_kw")) int snapdump_kw_in_section = 7;
extern char __start_snapdump_kw[], __stop_snapdump_kw[];
__declspec(code_seg("snapdump_kw_text")) int snapdump_kw_code_seg(void) { return 3; }
__declspec(naked) void snapdump_kw_naked(void) { __asm__("ret"); }
__declspec(no_sanitize_address) int snapdump_kw_no_asan(int x) { return x; }
__declspec(safebuffers) int snapdump_kw_safebuffers(int x) { return x; }
__declspec(allocator) void* snapdump_kw_allocator(size_t n);
__declspec(spectre(nomitigation)) int snapdump_kw_spectre(int x);
__declspec(guard(ignore)) int snapdump_kw_guard(int x);
__declspec(hybrid_patchable) int snapdump_kw_hybrid(int x);
__declspec() int snapdump_kw_empty_declspec(void);
struct __declspec(novtable) NOVTABLE_STRUCT { int x; };
struct __declspec(uuid("6B29FC40-CA47-1067-B31D-00DD010662DA")) UUID_STRUCT { int x; };
struct __declspec(empty_bases) EMPTY_BASES_STRUCT { int x; };

/* A noreturn function makes the path after it unreachable: without the attribute, -Wall's
 * -Wreturn-type would fail this file ("control reaches end of non-void function"). */
void snapdump_kw_fail(const char* why) {
  fprintf(stderr, "%s\n", why);
  abort();
}
int snapdump_kw_checked(int x);
int snapdump_kw_checked(int x) {
  if (x >= 0) return x;
  snapdump_kw_fail("negative");
}

/* ---- inlining ---- */
static __forceinline int forced(int x) { return x * 10; }
__forceinline int snapdump_kw_forced_extern(int x) { return x * 100; }
FORCEINLINE static int forced_macro(int x) { return x + 1000; }
static __inline int old_inline(int x) { return x + 10000; }

/* ---- intrinsics that are keywords ---- */
static int assumed(int x) {
  __assume(x > 0);
  __noop(x, "not evaluated", abort());
  return x;
}
#define PACKED_STRUCT(decl) __pragma(pack(push, 1)) decl __pragma(pack(pop))
PACKED_STRUCT(struct packed { char c; int i; };)

/* ---- SAL, as an SDK header annotates its functions ---- */
_Success_(return != FALSE) _Check_return_ static BOOL copy_name(_In_reads_bytes_(size) const void* src,
                                                                _Out_writes_bytes_(size) void* dst,
                                                                _In_ SIZE_T size, _Out_opt_ SIZE_T* written) {
  memcpy(dst, src, size);
  if (written) *written = size;
  return TRUE;
}
_Ret_maybenull_ _Must_inspect_result_ static char* find_char(_In_z_ const char* s, _In_ char c) { return strchr(s, c); }
static void fill(_Out_writes_(count) _Post_z_ char* buf, _In_ size_t count) { buf[count - 1] = '\0'; }
static HRESULT WINAPI get_value(_Outptr_result_maybenull_ void** out, _Inout_opt_ int* counter, _In_opt_z_ const char* name,
                                _Reserved_ void* reserved, _Out_writes_to_(n, *got) int* items, _In_ int n,
                                _Out_ int* got) {
  (void)name;
  (void)reserved;
  *out = NULL;
  if (counter) ++*counter;
  for (int i = 0; i < n; ++i) items[i] = i;
  *got = n;
  return S_OK;
}
static DWORD legacy(__in DWORD a, __out DWORD* b, __inout DWORD* c, __in_opt const char* d, __out_opt DWORD* e,
                    __in_bcount(4) const void* f, __out_ecount(2) DWORD* g, __deref_out_opt void** h) {
  (void)d;
  (void)f;
  *b = a;
  *c += a;
  if (e) *e = 0;
  g[0] = g[1] = a;
  *h = NULL;
  return a;
}
typedef struct {
  _Field_size_(count) int* items;
  _Field_range_(0, 16) int count;
  _Field_z_ const char* name;
} ANNOTATED;

static void* other_thread(void* arg) {
  per_thread = 2;
  *(int*)arg = per_thread;
  return NULL;
}

int snapdump_win_c_keywords(struct snapdump_win_c_keyword_facts* out) {
  memset(out, 0, sizeof *out);
  out->sizes[0] = sizeof(__int8);
  out->sizes[1] = sizeof(__int16);
  out->sizes[2] = sizeof(__int32);
  out->sizes[3] = sizeof(__int64);
  out->align_var = (unsigned long)((uintptr_t)aligned_var % 64);
  out->align_type = (unsigned long)alignof(ALIGNED32);
  pthread_t t;
  if (pthread_create(&t, NULL, other_thread, &out->thread_other) != 0) return -1;
  pthread_join(t, NULL);
  out->thread_main = per_thread;
  out->forceinline_sum = forced(1) + snapdump_kw_forced_extern(1) + forced_macro(1) + old_inline(1);
  char* p = allocate(16);
  out->restrict_ok = p != NULL;
  free(p);
  out->in_section = (char*)&snapdump_kw_in_section >= __start_snapdump_kw &&
                    (char*)&snapdump_kw_in_section < __stop_snapdump_kw && snapdump_kw_in_section == 7;
  out->selectany = snapdump_kw_selectany;

  char name[8];
  SIZE_T written = 0;
  if (!copy_name("abcdefg", name, 8, &written) || written != 8) return -2;
  fill(name, sizeof name);
  if (find_char(name, 'z') != NULL) return -3;
  void* value = &value;
  int counter = 0, items[3], got = 0;
  if (get_value(&value, &counter, "x", NULL, items, 3, &got) != S_OK || value || counter != 1 || got != 3) return -4;
  DWORD b = 0, c = 1, e = 1, g[2];
  void* h = &h;
  out->sal_result = (int)legacy(5, &b, &c, NULL, &e, "abcd", g, &h) + (int)b + (int)c + (int)g[1];
  ANNOTATED annotated = {items, 3, "n"};
  out->sal_result += annotated.count + snapdump_kw_checked(0) + assumed(1) - 1;

  STDCALL_FN fn = thrice;
  WINAPI_FN wfn = callback;
  out->stdcall_pointer = fn(1) + wfn(1) + twice(1) + plus_one(1) + minus_one(1) + zero(1) + same(1) + neg(1) +
                         entry(1) + nt(1) + variadic_convention(1) + not_inlined(1) + not_inlined_macro(1) +
                         snapdump_kw_code_seg() + snapdump_kw_exported() + snapdump_kw_no_asan(1) +
                         snapdump_kw_safebuffers(1);
  snapdump_kw_naked();
  out->types_agree = (int)(*as_ulonglong == *as_dword64) + (int)(*as_longlong == -1) + (int)(*as_dword == u32) +
                     (int)(*as_byte == 0xff) + (int)(s16 == -1) + (int)(wide_char == L'x') + (int)(sizeof(W64_ULONG) == 8);
  out->modified_pointers = *p64 + *unaligned_p + *unaligned_macro + *pointer_64 + *signed_pointer + *unsigned_pointer;
  struct NOVTABLE_STRUCT novtable = {1};
  struct UUID_STRUCT uuid = {2};
  struct EMPTY_BASES_STRUCT empty_bases = {3};
  out->modified_pointers += novtable.x + uuid.x + empty_bases.x - 6 + this_call(0);
  out->packed_size = sizeof(struct packed);
  out->align_macros[0] = alignof(ALIGNED16);
  out->align_macros[1] = alignof(CACHEALIGNED);
  return 0;
}
