#include "win/handles.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace snapdump::win {

namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<void*, std::unique_ptr<HandleObject>> objects;
};

Registry& registry() {
  // Never destroyed: handles may be closed from static destructors of the caller.
  static Registry* r = new Registry;
  return *r;
}

}  // namespace

FileObject::~FileObject() {
  if (fd >= 0) ::close(fd);
}

SnapshotObject::~SnapshotObject() {
  if (va_clone_handle) close_registered(va_clone_handle);
}

WalkMarkerObject::WalkMarkerObject(const PSS_ALLOCATOR* a) : HandleObject(HandleKind::walk_marker) {
  if (a && a->AllocRoutine && a->FreeRoutine) {
    allocator = *a;
    has_allocator = true;
  }
}

WalkMarkerObject::~WalkMarkerObject() {
  for (void* block : blocks) {
    if (has_allocator) {
      allocator.FreeRoutine(allocator.Context, block);
    } else {
      std::free(block);
    }
  }
}

void* WalkMarkerObject::allocate(size_t bytes) {
  if (bytes == 0) bytes = 1;
  void* block = nullptr;
  if (has_allocator) {
    if (bytes > UINT32_MAX) throw std::bad_alloc();
    block = allocator.AllocRoutine(allocator.Context, static_cast<DWORD>(bytes));
  } else {
    // 16-byte alignment: CONTEXT records are allocated here.
    block = std::aligned_alloc(16, (bytes + 15) & ~size_t{15});
  }
  if (!block) throw std::bad_alloc();
  blocks.push_back(block);
  return block;
}

const wchar_t* WalkMarkerObject::copy_wide(const std::wstring& text) {
  auto* out = static_cast<wchar_t*>(allocate((text.size() + 1) * sizeof(wchar_t)));
  std::wmemcpy(out, text.c_str(), text.size() + 1);
  return out;
}

HANDLE register_handle(std::unique_ptr<HandleObject> object) {
  Registry& r = registry();
  void* key = object.get();
  std::lock_guard lock(r.mutex);
  r.objects.emplace(key, std::move(object));
  return key;
}

HandleObject* find_handle(HANDLE handle, HandleKind kind) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.objects.find(handle);
  if (it == r.objects.end() || it->second->kind != kind) return nullptr;
  return it->second.get();
}

bool close_registered(HANDLE handle) {
  std::unique_ptr<HandleObject> doomed;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.objects.find(handle);
    if (it == r.objects.end()) return false;
    doomed = std::move(it->second);
    r.objects.erase(it);
  }
  // Destroyed outside the lock: a snapshot's destructor closes its clone handle.
  return true;
}

pid_t pid_of_process_handle(HANDLE handle) {
  if (handle == current_process_pseudo_handle()) return ::getpid();
  auto* p = find<ProcessObject>(handle, HandleKind::process);
  return p ? p->pid : -1;
}

}  // namespace snapdump::win
