// The real Attacher: one fastfs mount per backing filesystem (and set of fastfs options), shared by all the
// volumes on it, so that a copy from one volume into another is a copy inside one FUSE filesystem and
// becomes a reflink (two FUSE mounts would make the kernel answer EXDEV and copy every byte).
//
// Layout under the run directory (a tmpfs such as /run, so that a reboot leaves nothing stale):
//   roots/<group>     a private, non-recursive bind of the root of the backing filesystem's mount (or, where
//                     that would contain the run directory, of a directory below it): the fastfs backing
//                     directory, holding every volume of the group and no other mounts
//   fs/<group>        the fastfs mount of roots/<group>, with allow_other
//   volumes/<name>    a bind of fs/<group>/<the volume's directory>, with the volume's own flags (ro, ...):
//                     the path Docker binds into containers
// <group> is a hash of the filesystem's mount and the fastfs options, so a restarted plugin finds the
// mounts of its predecessor again.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "fastfs/docker_plugin/driver.hpp"

namespace fastfs::docker_plugin {

struct SystemMountsConfig {
    std::filesystem::path run_dir;
    std::filesystem::path fastfs_binary;
    std::chrono::milliseconds mount_timeout{30'000};
};

class SystemMounts final : public Attacher {
  public:
    explicit SystemMounts(SystemMountsConfig config) : config_(std::move(config)) {}

    // Creates the run directory and its parts, readable by root only.
    Reply<void> prepare() const;

    Reply<std::filesystem::path> attach(const AttachRequest& request) override;
    void detach(const std::string& name) override;
    std::optional<std::filesystem::path> attached(const std::string& name) const override;
    bool held_by_containers(const AttachRequest& request) const override;
    void adopt(const std::vector<AttachRequest>& in_use) override;
    std::map<std::string, std::string> status(const std::string& name) const override;

  private:
    struct Placement {
        std::string group;
        std::filesystem::path served;    // what fastfs serves: the backing filesystem's mount point, or
                                         // a directory below it (see served_directory)
        std::filesystem::path relative;  // the volume's directory inside it
        std::vector<std::string> mount_options;
        bool operator==(const Placement&) const = default;
    };
    struct Volume {
        Placement placement;
        unsigned long bind_flags = 0;
        bool operator==(const Volume&) const = default;
    };

    Reply<Placement> place(const AttachRequest& request) const;
    std::filesystem::path served_directory(const std::filesystem::path& mount_point,
                                           const std::filesystem::path& backing) const;
    std::filesystem::path group_mount(const std::string& group) const;
    std::filesystem::path group_root(const std::string& group) const;
    std::filesystem::path volume_path(const std::string& name) const;

    Reply<void> ensure_group(const Placement& placement);
    Reply<void> mount_group(const Placement& placement);
    void unmount_group(const std::string& group);
    void drop_dead_group(const std::string& group);
    Reply<void> bind_volume(const std::string& name, const Volume& volume);
    void unbind_volume(const std::string& name);
    bool group_has_volumes(const std::string& group) const;
    void remove_leftovers();

    SystemMountsConfig config_;
    std::map<std::string, Volume> volumes_;  // attached: bound at volume_path(name)
    std::set<std::string> groups_;           // mounted: fastfs serves group_mount(group)
};

// Whether `path` is a fastfs mount (or a bind of one) whose daemon answers.
bool fastfs_mount_alive(const std::filesystem::path& path);

}  // namespace fastfs::docker_plugin
