/* The C side of the keyword test (keywords_c.c): what the keywords did, observed in C. */
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
struct snapdump_win_c_keyword_facts {
  unsigned sizes[4];           /* sizeof __int8, __int16, __int32, __int64 */
  unsigned long align_var;     /* the address of a __declspec(align(64)) variable, mod 64 */
  unsigned long align_type;    /* _Alignof a struct __declspec(align(32)) */
  unsigned long align_macros[2];  /* _Alignof structs with DECLSPEC_ALIGN(16), DECLSPEC_CACHEALIGN */
  unsigned packed_size;        /* sizeof { char; int; } between __pragma(pack(push, 1)) and pop */
  int thread_main, thread_other;  /* a __declspec(thread) variable as each thread left it */
  int forceinline_sum;         /* from __forceinline and __inline functions */
  int restrict_ok;             /* a __declspec(restrict) allocator's memory was usable */
  int in_section;              /* a __declspec(allocate("snapdump_kw")) variable is in that section */
  int selectany;               /* the __declspec(selectany) variable both languages define */
  int sal_result;              /* the SAL-annotated functions' results: 24 */
  int types_agree;             /* __int64 and friends are the <windows.h> types: 7 checks true */
  int modified_pointers;       /* six pointers with __ptr64, __unaligned, __sptr, ...: 6 x 5 */
  int stdcall_pointer;         /* a call through a WINAPI function pointer */
};
int snapdump_win_c_keywords(struct snapdump_win_c_keyword_facts* out);
#ifdef __cplusplus
}
#endif
