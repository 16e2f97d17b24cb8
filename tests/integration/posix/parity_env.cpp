#include "parity_env.hpp"

#include <atomic>

namespace fastfs::test {
namespace {

std::map<std::string, std::unique_ptr<MountedBacking>>& mounts() {
    static std::map<std::string, std::unique_ptr<MountedBacking>> all;
    return all;
}

class TearDownMounts : public ::testing::Environment {
  public:
    void TearDown() override { mounts().clear(); }  // unmount fastfs, then the loop filesystems
};

[[maybe_unused]] auto* const registered = ::testing::AddGlobalTestEnvironment(new TearDownMounts);

}  // namespace

MountedBacking& shared_mount(FsType type, const std::vector<std::string>& args) {
    std::string key = std::string(to_string(type));
    for (const auto& a : args)
        key += " " + a;
    auto& slot = mounts()[key];
    if (!slot) {
        slot = std::make_unique<MountedBacking>();
        if (auto backing = LoopFilesystem::create(type, uint64_t(1) << 30, &slot->why))
            slot->backing.emplace(std::move(*backing));
        if (slot->backing) {
            if (auto mount = FastfsMount::start(slot->backing->path(), args, &slot->why))
                slot->mount.emplace(std::move(*mount));
        }
    }
    return *slot;
}

CaseDirs make_case_dirs(MountedBacking& env, const std::string& name) {
    static std::atomic<int> counter{0};
    std::string unique = name + "-" + std::to_string(counter++);
    CaseDirs dirs{env.mount->path() / ("m-" + unique), env.backing->path() / ("n-" + unique)};
    fs::create_directory(dirs.via_mount);
    fs::create_directory(dirs.native);
    return dirs;
}

}  // namespace fastfs::test
