// One loop-mounted filesystem per type with fastfs mounted over it, shared by the parity tests of a run
// and torn down at the end (a gtest Environment), so each case costs no mkfs.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "gtest_support.hpp"

namespace fastfs::test {

struct MountedBacking {
    std::optional<LoopFilesystem> backing;
    std::optional<FastfsMount> mount;
    std::string why;  // why setting up failed
    bool ready() const { return backing && mount; }
};

// The shared backing + mount for `type` (made on first use). Extra fastfs arguments differ per key.
MountedBacking& shared_mount(FsType type, const std::vector<std::string>& args = {});

// Paths of one case: the same relative directory under the mount and directly on the backing.
struct CaseDirs {
    fs::path via_mount;
    fs::path native;
};
CaseDirs make_case_dirs(MountedBacking& env, const std::string& name);

}  // namespace fastfs::test
