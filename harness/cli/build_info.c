/* Build facts, baked in by CMakeLists.txt (apart from main.c, so that the fuzz targets, which
 * have libFuzzer's main, link the commands too); the commit comes from git_commit.h, written
 * at every build by cmake/git_commit.cmake. */
#include "harness/cli/cli.h"

#include "git_commit.h"

#ifndef SB_VERSION
#define SB_VERSION "0.0.0"
#endif

const struct sb_build_info *sb_build_info(void)
{
    static const struct sb_build_info info = {SB_VERSION, SB_GIT_COMMIT, SB_COMPILER,
                                              SB_BUILD_TYPE, SB_BUILD_FLAGS};
    return &info;
}
