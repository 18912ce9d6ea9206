/* The keywords of Microsoft's compiler that Windows code is written with (__cdecl, __declspec(...),
 * __forceinline, __int64, ...), for GCC and Clang on x86-64 Linux: each is either given its
 * meaning with a GCC attribute or made harmless where x64 Windows gives it none either. Included
 * by <windows.h> (through wintypes.h), as MinGW's _mingw.h is; docs/win-api.md lists them.
 * Nothing here is defined when the compiler is Microsoft's own (_MSC_VER). Plain C11 and C++. */
#ifndef SNAPDUMP_WIN_MSVC_KEYWORDS_H
#define SNAPDUMP_WIN_MSVC_KEYWORDS_H

#ifndef _MSC_VER

#ifndef __cplusplus
#include <stddef.h> /* wchar_t, for __wchar_t */
#endif

/* ---- calling conventions ----
 * x64 Windows has one calling convention: the compiler accepts __cdecl, __stdcall, __fastcall
 * and __thiscall and ignores them (only __vectorcall passes more vector arguments in registers).
 * x86-64 Linux has one too, the System V one, which snapdump's functions use, so each keyword is
 * empty: a function or function pointer declared with any of them calls them correctly. (GCC's
 * own cdecl and stdcall attributes would only warn, on this target, that they are ignored.) */
#define __cdecl
#define __stdcall
#define __fastcall
#define __thiscall
#define __vectorcall
#define _cdecl
#define _stdcall
#define _fastcall

/* ---- integer types ----
 * __int64 is the type of int64_t (long on this LP64 system), so that `unsigned __int64` is the
 * ULONGLONG and DWORD64 of <windows.h>, as it is on Windows, and pointers to one are pointers to
 * the other. Such a value prints with PRId64 or %ld, not %lld. */
#define __int8 char
#define __int16 short
#define __int32 int
#define __int64 long
#define __wchar_t wchar_t

/* ---- pointer and type modifiers that mean nothing on x64 ----
 * __ptr64 is the size pointers have anyway; __w64 marked types that become 64 bits on 64-bit
 * Windows; __unaligned changes code only on Windows' other processors (x86-64 reads unaligned
 * data). __ptr32 (a 32-bit pointer in a 64-bit process) has no counterpart and is not defined. */
#define __ptr64
#define __w64
#define __unaligned
#define __sptr
#define __uptr
#ifdef __cplusplus
#define __single_inheritance
#define __multiple_inheritance
#define __virtual_inheritance
#endif

/* ---- inlining ----
 * __forceinline: inline, and always inlined (GCC refuses to build a call it cannot inline, where
 * Microsoft's compiler warns). In C the definition is a C99 inline one: a __forceinline function
 * whose address is taken needs an extern declaration in one file, as any C99 inline function does.
 * __inline is a GCC and Clang keyword already. */
#ifdef __cplusplus
#define __forceinline inline __attribute__((__always_inline__))
#else
#define __forceinline __inline__ __attribute__((__always_inline__))
#endif

/* ---- intrinsics that are keywords ---- */
/* __assume(e): the optimiser may take e as true. Unlike Microsoft's, e is evaluated. */
#define __assume(e) ((e) ? (void)0 : __builtin_unreachable())
/* __noop(...): nothing; its arguments are not evaluated. */
#define __noop(...) ((void)0)
/* __pragma(x): #pragma x inside a macro. */
#define __pragma(x) _Pragma(#x)

/* ---- __declspec(modifier) ----
 * One modifier per __declspec, as nearly all code writes it (__declspec(dllexport)
 * __declspec(noreturn)); a list in one __declspec fails to compile, naming
 * SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME. A modifier not listed below fails to compile
 * naming SNAPDUMP_WIN_DECLSPEC_<modifier> (property, for one, has no counterpart).
 *   dllexport, dllimport  visibility("default"): the symbol is exported from a shared object
 *                         even when built with -fvisibility=hidden
 *   noreturn              noreturn
 *   nothrow               nothrow (nothing in C++ with Clang, which would require it on every
 *                         redeclaration)
 *   noinline              noinline
 *   align(n)              aligned(n)
 *   thread                _Thread_local (C), thread_local (C++)
 *   selectany             weak: one definition survives of those in every file, as the linker
 *                         keeps one COMDAT copy on Windows
 *   deprecated, deprecated("why")  deprecated
 *   restrict              malloc: the returned pointer aliases nothing
 *   naked                 naked
 *   allocate("s"), code_seg("s")  section("s") (what the Microsoft C runtime does with its own
 *                         sections, such as .CRT$XCU initialisers, does not happen here)
 *   no_sanitize_address   no_sanitize_address
 *   novtable, uuid("..."), noalias, safebuffers, empty_bases, allocator, spectre(...),
 *   guard(...), hybrid_patchable  nothing: optimisation hints, COM and Windows security
 *                         features with no effect on what the code does here
 *
 * How: __declspec(x) becomes SNAPDUMP_WIN_DECLSPEC_x followed by a closing parenthesis; each
 * SNAPDUMP_WIN_DECLSPEC_x opens a call that takes x's own arguments, if any, up to it. */
#define __declspec(...) SNAPDUMP_WIN_DECLSPEC_##__VA_ARGS__ )
#define SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME()
#define SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(...) __attribute__((__VA_ARGS__)) SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME(
#define SNAPDUMP_WIN_DECLSPEC_IGNORE(...)
#define SNAPDUMP_WIN_DECLSPEC_ALIGN(...) __attribute__((__aligned__ __VA_ARGS__))
#define SNAPDUMP_WIN_DECLSPEC_DEPRECATED(...) __attribute__((__deprecated__ __VA_ARGS__))
#define SNAPDUMP_WIN_DECLSPEC_SECTION(...) __attribute__((__section__ __VA_ARGS__))

#define SNAPDUMP_WIN_DECLSPEC_ SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME(
#define SNAPDUMP_WIN_DECLSPEC_dllexport SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__visibility__("default"))
#define SNAPDUMP_WIN_DECLSPEC_dllimport SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__visibility__("default"))
#define SNAPDUMP_WIN_DECLSPEC_noreturn SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__noreturn__)
#if defined(__cplusplus) && defined(__clang__)
/* Clang takes nothrow for an exception specification that every redeclaration must repeat. */
#define SNAPDUMP_WIN_DECLSPEC_nothrow SNAPDUMP_WIN_DECLSPEC_IGNORE(
#else
#define SNAPDUMP_WIN_DECLSPEC_nothrow SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__nothrow__)
#endif
#define SNAPDUMP_WIN_DECLSPEC_noinline SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__noinline__)
#define SNAPDUMP_WIN_DECLSPEC_selectany SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__weak__)
#define SNAPDUMP_WIN_DECLSPEC_restrict SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__malloc__)
#define SNAPDUMP_WIN_DECLSPEC_naked SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__naked__)
#define SNAPDUMP_WIN_DECLSPEC_no_sanitize_address SNAPDUMP_WIN_DECLSPEC_ATTRIBUTE(__no_sanitize_address__)
#ifdef __cplusplus
#define SNAPDUMP_WIN_DECLSPEC_thread thread_local SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME(
#else
#define SNAPDUMP_WIN_DECLSPEC_thread _Thread_local SNAPDUMP_WIN_ONE_DECLSPEC_MODIFIER_AT_A_TIME(
#endif
#define SNAPDUMP_WIN_DECLSPEC_align SNAPDUMP_WIN_DECLSPEC_ALIGN(
#define SNAPDUMP_WIN_DECLSPEC_deprecated SNAPDUMP_WIN_DECLSPEC_DEPRECATED(
#define SNAPDUMP_WIN_DECLSPEC_allocate SNAPDUMP_WIN_DECLSPEC_SECTION(
#define SNAPDUMP_WIN_DECLSPEC_code_seg SNAPDUMP_WIN_DECLSPEC_SECTION(
#define SNAPDUMP_WIN_DECLSPEC_novtable SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_uuid SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_noalias SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_safebuffers SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_empty_bases SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_allocator SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_spectre SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_guard SNAPDUMP_WIN_DECLSPEC_IGNORE(
#define SNAPDUMP_WIN_DECLSPEC_hybrid_patchable SNAPDUMP_WIN_DECLSPEC_IGNORE(

#endif /* !_MSC_VER */

/* ---- the winnt.h and windef.h macros spelled with these keywords ---- */
#define WINAPI __stdcall
#define WINAPIV __cdecl
#define APIENTRY WINAPI
#define CALLBACK __stdcall
#define NTAPI __stdcall
#define PASCAL __stdcall
#define STDMETHODCALLTYPE __stdcall
#define STDMETHODVCALLTYPE __cdecl
#define STDAPICALLTYPE __stdcall
#define STDAPIVCALLTYPE __cdecl
#define WINAPI_INLINE WINAPI
#define FAR
#define NEAR
#define DECLSPEC_IMPORT __declspec(dllimport)
#define DECLSPEC_EXPORT __declspec(dllexport)
#define DECLSPEC_NORETURN __declspec(noreturn)
#define DECLSPEC_NOTHROW __declspec(nothrow)
#define DECLSPEC_NOINLINE __declspec(noinline)
#define DECLSPEC_SELECTANY __declspec(selectany)
#define DECLSPEC_NOVTABLE __declspec(novtable)
#define DECLSPEC_UUID(x) __declspec(uuid(x))
#define DECLSPEC_DEPRECATED __declspec(deprecated)
#define DECLSPEC_ALIGN(x) __declspec(align(x))
#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(64)
#define DECLSPEC_RESTRICT __declspec(restrict)
#define DECLSPEC_NOALIAS __declspec(noalias)
#define DECLSPEC_THREAD __declspec(thread)
#define DECLSPEC_ADDRSAFE
#define FORCEINLINE __forceinline
#define NTSYSAPI DECLSPEC_IMPORT
#define WINBASEAPI DECLSPEC_IMPORT
#define WINADVAPI DECLSPEC_IMPORT
#define WINUSERAPI DECLSPEC_IMPORT
#define UNALIGNED __unaligned
#define UNALIGNED64 __unaligned
#define POINTER_64 __ptr64

#endif /* SNAPDUMP_WIN_MSVC_KEYWORDS_H */
