# Cross build for aarch64 (NEON): Debian's gcc-aarch64-linux-gnu, libraries from the arm64
# multiarch packages (libcmocka-dev:arm64), tests run under qemu-aarch64 by ctest.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# -L: the arm64 C library of libc6-arm64-cross; -E: the multiarch folder where Debian puts
# arm64 libraries such as libcmocka, so the guest's loader finds them without relying on the
# host's ld.so cache.
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64;-L;/usr/aarch64-linux-gnu;-E;LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
