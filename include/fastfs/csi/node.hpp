// The Node service's work, without gRPC: one fastfs mount per backing (MOUNT_ROOT/<backing name>, shared by
// all the backing's volumes so that copies between them are reflinks), per-volume directories in it
// (BACKING/.fastfs-csi/volumes/<volume id>, made and removed through the mount), and binds of them onto
// kubelet's target paths. Not thread-safe: the service serializes calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "fastfs/csi/state.hpp"
#include "fastfs/csi/volume.hpp"

namespace fastfs::csi {

struct NodeConfig {
    Backings backings;                    // canonical directories, checked at start
    std::filesystem::path mount_root;     // where the fastfs mounts live
    std::filesystem::path fastfs_binary;  // run to mount and to clone trees
    std::chrono::milliseconds mount_timeout{30'000};
    std::chrono::milliseconds clone_timeout{600'000};
    std::function<std::expected<void, std::string>(const State&)> save;  // persists the state
};

struct PublishRequest {
    std::string volume_id;
    std::filesystem::path target;
    VolumeSpec spec;
    bool single_writer = false;  // SINGLE_NODE_SINGLE_WRITER: one target at a time
};

struct VolumeStats {
    int64_t bytes_total = 0, bytes_available = 0, bytes_used = 0;
    int64_t inodes_total = 0, inodes_available = 0, inodes_used = 0;
};

// Where a volume's own directory (clone, scratch) lives, relative to its backing.
std::filesystem::path volume_directory(const std::string& volume_id);

class Node {
  public:
    Node(NodeConfig config, State state) : config_(std::move(config)), state_(std::move(state)) {}

    // After a restart, before serving: mounts again the backings that published volumes use when their
    // fastfs is not answering, and binds again the targets that are not live mounts. Live ones are left
    // alone (running pods keep what they have). Failures are logged: a later publish retries.
    void recover();

    Reply<void> publish(const PublishRequest& request);
    Reply<void> unpublish(const std::string& volume_id, const std::filesystem::path& target);
    Reply<VolumeStats> stats(const std::string& volume_id, const std::filesystem::path& path) const;

    // Every backing directory answers statfs.
    bool ready() const;

  private:
    std::filesystem::path mount_of_backing(const std::string& name) const;
    Reply<void> ensure_mounted(const std::string& backing);
    Reply<void> mount_backing(const std::string& backing);
    Reply<std::filesystem::path> resolve_source(const VolumeSpec& spec) const;
    Reply<void> prepare_volume_directory(const PublishRequest& request, const std::filesystem::path& source);
    Reply<void> bind_target(const std::filesystem::path& target, const Publication& publication);
    Reply<void> check_compatible(const PublishRequest& request) const;
    bool volume_in_use(const std::string& volume_id, const std::filesystem::path& except) const;
    void remove_volume_directory(const Publication& publication);
    Reply<void> save();

    NodeConfig config_;
    State state_;
};

}  // namespace fastfs::csi
