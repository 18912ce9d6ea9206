/* The basic Windows types and status codes, sized as on 64-bit Windows (LLP64):
 * DWORD, ULONG and LONG are 32 bits even though `long` is 64 bits on Linux, so they are spelled
 * with <stdint.h> types. WCHAR is wchar_t (32 bits on Linux) so that L"" literals work as they
 * do in Windows code; structures holding WCHAR arrays are therefore larger than on Windows.
 * The compiler keywords (msvc_keywords.h) and SAL annotations (sal.h) come with it, as they come
 * with <windows.h> on Windows. Plain C11; C++ sees the same declarations. */
#ifndef SNAPDUMP_WIN_WINTYPES_H
#define SNAPDUMP_WIN_WINTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#ifdef __cplusplus
#define SNAPDUMP_WIN_EXTERN_C extern "C"
#define SNAPDUMP_WIN_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
/* Flag enumerations get a fixed 32-bit underlying type in C++, so any combination of bits a
 * caller passes (a cast from DWORD included) is a valid value, as it is in C and with MSVC. */
#define SNAPDUMP_WIN_FLAGS_ENUM : unsigned int
/* Enumerations of values (information classes, object, stream and callback types) get a fixed
 * int underlying type in C++: a caller may pass, and a dump may hold, a value this SDK does not
 * name (a newer SDK's class, a stray number). In C that is an int like any other; in C++,
 * without a fixed type, an enum holding a value outside its enumerators' range is undefined
 * behaviour, in the caller's code and in the library that checks it. */
#define SNAPDUMP_WIN_VALUE_ENUM : int
#else
#define SNAPDUMP_WIN_EXTERN_C
#define SNAPDUMP_WIN_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define SNAPDUMP_WIN_FLAGS_ENUM
#define SNAPDUMP_WIN_VALUE_ENUM
#endif

#include "msvc_keywords.h"
#include "sal.h"

#define EXTERN_C SNAPDUMP_WIN_EXTERN_C
#define STDAPI EXTERN_C HRESULT STDAPICALLTYPE

/* The older parameter annotations of windef.h. */
#define IN
#define OUT
#define OPTIONAL

#ifndef NULL
#define NULL 0
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#define CONST const
#define VOID void
#define MAX_PATH 260
#define ANYSIZE_ARRAY 1

typedef int BOOL, *PBOOL, *LPBOOL;
typedef unsigned char BYTE, *PBYTE, *LPBYTE, UCHAR, *PUCHAR, BOOLEAN, *PBOOLEAN;
typedef char CHAR, *PCHAR, *LPSTR, *PSTR;
typedef const char *LPCSTR, *PCSTR;
typedef wchar_t WCHAR, *PWCHAR, *LPWSTR, *PWSTR;
typedef const wchar_t *LPCWSTR, *PCWSTR;
typedef int16_t SHORT;
typedef uint16_t WORD, USHORT, *PWORD, *PUSHORT;
typedef int32_t INT, LONG, INT32, LONG32, *PLONG, *PINT;
typedef uint32_t UINT, DWORD, ULONG, UINT32, ULONG32, DWORD32, *PDWORD, *LPDWORD, *PULONG, *PUINT, *PULONG32;
typedef int64_t LONG64, INT64, LONGLONG, *PLONG64;
typedef uint64_t ULONG64, DWORD64, UINT64, ULONGLONG, *PULONG64, *PDWORD64, *PUINT64;
typedef intptr_t INT_PTR, LONG_PTR;
typedef uintptr_t UINT_PTR, ULONG_PTR, DWORD_PTR, SIZE_T, *PULONG_PTR, *PSIZE_T;
typedef intptr_t SSIZE_T;
typedef void *PVOID, *LPVOID;
typedef const void *LPCVOID, *PCVOID;
typedef float FLOAT;
typedef LONG HRESULT;
typedef DWORD ACCESS_MASK;
typedef void *HANDLE, **PHANDLE, **LPHANDLE;
typedef HANDLE HMODULE, HINSTANCE;

#define DECLARE_HANDLE(name) \
  struct name##__ {          \
    int unused;              \
  };                         \
  typedef struct name##__* name

#ifdef UNICODE
typedef WCHAR TCHAR;
typedef LPWSTR LPTSTR;
typedef LPCWSTR LPCTSTR;
#define TEXT(s) L##s
#else
typedef char TCHAR;
typedef LPSTR LPTSTR;
typedef LPCSTR LPCTSTR;
#define TEXT(s) s
#endif
#define _T(s) TEXT(s)

typedef struct _FILETIME {
  DWORD dwLowDateTime;
  DWORD dwHighDateTime;
} FILETIME, *PFILETIME, *LPFILETIME;

typedef union _LARGE_INTEGER {
  struct {
    DWORD LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
  struct {
    DWORD LowPart;
    DWORD HighPart;
  } u;
  ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _GUID {
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID;

typedef struct _SECURITY_ATTRIBUTES {
  DWORD nLength;
  LPVOID lpSecurityDescriptor;
  BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define ZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define FillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define CopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define MoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define ARRAYSIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))

/* ---- HRESULTs ---- */
#define _HRESULT_TYPEDEF_(x) ((HRESULT)(x))
#define S_OK ((HRESULT)0L)
#define S_FALSE ((HRESULT)1L)
#define E_NOTIMPL _HRESULT_TYPEDEF_(0x80004001L)
#define E_NOINTERFACE _HRESULT_TYPEDEF_(0x80004002L)
#define E_POINTER _HRESULT_TYPEDEF_(0x80004003L)
#define E_ABORT _HRESULT_TYPEDEF_(0x80004004L)
#define E_FAIL _HRESULT_TYPEDEF_(0x80004005L)
#define E_UNEXPECTED _HRESULT_TYPEDEF_(0x8000FFFFL)
#define E_ACCESSDENIED _HRESULT_TYPEDEF_(0x80070005L)
#define E_HANDLE _HRESULT_TYPEDEF_(0x80070006L)
#define E_OUTOFMEMORY _HRESULT_TYPEDEF_(0x8007000EL)
#define E_INVALIDARG _HRESULT_TYPEDEF_(0x80070057L)
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#define FACILITY_WIN32 7
#define HRESULT_FACILITY(hr) (((hr) >> 16) & 0x1fff)
#define HRESULT_CODE(hr) ((hr) & 0xFFFF)
#define HRESULT_FROM_WIN32(x) \
  ((HRESULT)(x) <= 0 ? ((HRESULT)(x)) : ((HRESULT)(((x) & 0x0000FFFF) | (FACILITY_WIN32 << 16) | 0x80000000)))

/* ---- Win32 error codes ---- */
#define ERROR_SUCCESS 0
#define NO_ERROR 0
#define ERROR_INVALID_FUNCTION 1
#define ERROR_FILE_NOT_FOUND 2
#define ERROR_PATH_NOT_FOUND 3
#define ERROR_TOO_MANY_OPEN_FILES 4
#define ERROR_ACCESS_DENIED 5
#define ERROR_INVALID_HANDLE 6
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_INVALID_DATA 13
#define ERROR_OUTOFMEMORY 14
#define ERROR_WRITE_FAULT 29
#define ERROR_READ_FAULT 30
#define ERROR_GEN_FAILURE 31
#define ERROR_SHARING_VIOLATION 32
#define ERROR_HANDLE_EOF 38
#define ERROR_HANDLE_DISK_FULL 39
#define ERROR_NOT_SUPPORTED 50
#define ERROR_FILE_EXISTS 80
#define ERROR_INVALID_PARAMETER 87
#define ERROR_DISK_FULL 112
#define ERROR_CALL_NOT_IMPLEMENTED 120
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_INVALID_NAME 123
#define ERROR_MOD_NOT_FOUND 126
#define ERROR_NEGATIVE_SEEK 131
#define ERROR_BAD_PATHNAME 161
#define ERROR_BUSY 170
#define ERROR_ALREADY_EXISTS 183
#define ERROR_BAD_LENGTH 24
#define ERROR_MORE_DATA 234
#define ERROR_NO_MORE_ITEMS 259
#define ERROR_PARTIAL_COPY 299
#define ERROR_INVALID_ADDRESS 487
#define ERROR_ARITHMETIC_OVERFLOW 534
#define ERROR_NOACCESS 998
#define ERROR_CANCELLED 1223
#define ERROR_NOT_FOUND 1168
#define ERROR_INTERNAL_ERROR 1359
#define ERROR_PROCESS_ABORTED 1067
#define ERROR_NO_SYSTEM_RESOURCES 1450
#define ERROR_TIMEOUT 1460
#define ERROR_INVALID_STATE 5023
#define ERROR_BAD_FORMAT 11
#define ERROR_FILE_CORRUPT 1392
#define ERROR_DEBUGGER_INACTIVE 1284
#define STILL_ACTIVE 259

#endif /* SNAPDUMP_WIN_WINTYPES_H */
