#include "support/heap_counter.h"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

#include <dlfcn.h>
#include <pthread.h>

// The replaced operator delete calls free() on what the replaced operator new got from malloc;
// GCC cannot see the replacement and reports every inlined delete as a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SNAPDUMP_HEAP_COUNTER_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SNAPDUMP_HEAP_COUNTER_MALLOC 0
#endif
#endif
#ifndef SNAPDUMP_HEAP_COUNTER_MALLOC
#define SNAPDUMP_HEAP_COUNTER_MALLOC 1
#endif

namespace {
thread_local bool t_watched = false;
thread_local long t_count = 0;

inline void count_one() {
  if (!t_watched) return;
  ++t_count;
}
}  // namespace

#if SNAPDUMP_HEAP_COUNTER_MALLOC
// glibc's own entry points, which a program replacing malloc may call (glibc manual,
// "Replacing malloc").
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void __libc_free(void*);

void* malloc(size_t n) {
  count_one();
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) {
  count_one();
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) {
  count_one();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(size_t alignment, size_t n) {
  count_one();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  count_one();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  count_one();
  void* p = __libc_memalign(alignment, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

// glibc allocates a new thread's TLS vector (calloc in _dl_allocate_tls) inside pthread_create
// when no cached thread stack can be reused. That is glibc's, not snapdump's (which starts its
// tracer thread with a bare pthread_create): calls made inside pthread_create are not counted.
// (Not in sanitizer builds, whose runtime intercepts pthread_create itself; malloc is not
// counted there anyway.)
int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  bool was = t_watched;
  t_watched = false;
  static Create real = reinterpret_cast<Create>(dlsym(RTLD_NEXT, "pthread_create"));
  int result = real(thread, attr, start, arg);
  t_watched = was;
  return result;
}
}
#endif

namespace {
void* counted_new(std::size_t size, std::size_t alignment) {
  count_one();
  if (size == 0) size = 1;
  // The malloc replacement above counts again; do not count twice.
  bool was = t_watched;
  t_watched = false;
  void* p = alignment > alignof(std::max_align_t)
                ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                : std::malloc(size);
  t_watched = was;
  return p;
}
}  // namespace

// Every replaceable form, so that allocation and release always pair malloc with free (ASan
// checks that pairing).
void* operator new(std::size_t n) {
  if (void* p = counted_new(n, 0)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (void* p = counted_new(n, static_cast<std::size_t>(a))) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_new(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_new(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace snapdump::testing {

void heap_watch(bool on) { t_watched = on; }
long heap_watched_count() { return t_count; }
bool heap_watch_sees_malloc() { return SNAPDUMP_HEAP_COUNTER_MALLOC != 0; }

}  // namespace snapdump::testing
