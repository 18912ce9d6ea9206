/* Loaded by the target with dlopen and kept loaded, so a capture must list it as a module. */
__attribute__((visibility("default"), noinline)) int snapdump_plugin_answer(void) {
  return 42;
}
