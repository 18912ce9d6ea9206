/* Loaded and unloaded again by the target, so a capture must NOT list it as a module. */
__attribute__((visibility("default"), noinline)) int snapdump_unloaded_answer(void) {
  return 7;
}
