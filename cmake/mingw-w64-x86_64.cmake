# Cross-compiling for 64-bit Windows with Debian's MinGW-w64
# (gcc-mingw-w64-x86-64).
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake ...
#
# Libraries and headers come only from the Windows dependency prefix that
# scripts/build-windows-deps.sh fills (and MinGW's own sysroot), never from
# the Linux host; build tools (python, perl, pkg-config) come from the host.
# The prefix is WSD_WIN_PREFIX: -DWSD_WIN_PREFIX=..., or the environment
# variable of that name, or build-win/deps/prefix in this source tree.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(WSD_WIN_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${WSD_WIN_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${WSD_WIN_TRIPLE}-g++)
set(CMAKE_RC_COMPILER ${WSD_WIN_TRIPLE}-windres)
set(CMAKE_AR ${WSD_WIN_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${WSD_WIN_TRIPLE}-ranlib CACHE FILEPATH "")

if(NOT WSD_WIN_PREFIX)
  if(DEFINED ENV{WSD_WIN_PREFIX})
    set(WSD_WIN_PREFIX "$ENV{WSD_WIN_PREFIX}")
  else()
    get_filename_component(WSD_WIN_PREFIX
      "${CMAKE_CURRENT_LIST_DIR}/../build-win/deps/prefix" ABSOLUTE)
  endif()
endif()
# try_compile() projects read this file again without the cache.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES WSD_WIN_PREFIX)

set(CMAKE_FIND_ROOT_PATH "${WSD_WIN_PREFIX}" /usr/${WSD_WIN_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg_check_modules() must see the Windows .pc files only, never the
# host's /usr/lib/x86_64-linux-gnu/pkgconfig.
set(ENV{PKG_CONFIG_LIBDIR} "${WSD_WIN_PREFIX}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
