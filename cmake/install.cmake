# `cmake --install build --prefix P`: the library (shared and static), its headers, pkg-config
# files, the CMake package and the snapdump command. Every file is found relative to P, so the
# tree can be installed anywhere (the .pc files use ${pcfiledir}).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS snapdump_core snapdump_shared EXPORT snapdumpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/snapdump DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The main of programs written with wmain, which snapdump-win.pc links (src/win/entry/wmain.c).
install(TARGETS snapdump_wmain ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

set(snapdump_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/snapdump)
install(EXPORT snapdumpTargets NAMESPACE snapdump:: DESTINATION ${snapdump_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/snapdumpConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/snapdumpConfig.cmake
                              INSTALL_DESTINATION ${snapdump_cmake_dir}
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/snapdumpConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/snapdumpConfig.cmake ${PROJECT_BINARY_DIR}/snapdumpConfigVersion.cmake
        DESTINATION ${snapdump_cmake_dir})

foreach(pc snapdump snapdump-win)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# The command, and the demo process `snapdump demo` runs (with the libraries it loads, which it
# looks for next to itself), in libexec where the command finds it relative to its own path.
install(TARGETS snapdump RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The tracer process every capture needs, where the library and the command look for it:
# ../libexec/snapdump/ from lib/ and bin/ alike.
install(TARGETS snapdump-tracer RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/snapdump)
install(TARGETS snapdump_target RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/snapdump)
install(TARGETS snapdump_target_plugin snapdump_target_unloaded LIBRARY DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/snapdump)
