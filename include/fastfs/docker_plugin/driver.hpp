// Docker's VolumeDriver operations on the plugin's state: names, options, who uses what (by Docker's mount
// ID), persistence. Making volumes reachable is the Attacher's job (the real one mounts fastfs; tests use
// a fake), so this part is plain logic. Every operation is serialized by one mutex: Docker calls a driver
// concurrently, and the operations are short (a mount takes milliseconds).
#pragma once

#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fastfs/docker_plugin/state.hpp"
#include "fastfs/docker_plugin/volume_options.hpp"

namespace fastfs::docker_plugin {

template <typename T>
using Reply = std::expected<T, std::string>;  // the error is the text Docker shows the user

struct AttachRequest {
    std::string name;
    std::filesystem::path backing;
    VolumeOptions options;
};

class Attacher {
  public:
    virtual ~Attacher() = default;
    // Makes the volume reachable at a path Docker can bind into containers. Idempotent; repairs a volume
    // whose fastfs daemon died.
    virtual Reply<std::filesystem::path> attach(const AttachRequest& request) = 0;
    // No container uses the volume any more.
    virtual void detach(const std::string& name) = 0;
    // Whether some container (another mount namespace) still has the volume mounted. Docker's own count is
    // the truth, but Docker does not always give mounts back (dockerd killed, then restarted).
    virtual bool held_by_containers(const AttachRequest& request) const = 0;
    // Where the volume is reachable now, if it is attached.
    virtual std::optional<std::filesystem::path> attached(const std::string& name) const = 0;
    // At start: take over what a previous plugin process left mounted for `in_use`; clean up the rest.
    virtual void adopt(const std::vector<AttachRequest>& in_use) = 0;
    // Extra facts for `docker volume inspect` (Status).
    virtual std::map<std::string, std::string> status(const std::string& name) const = 0;
};

struct VolumeView {
    std::string name;
    std::string mountpoint;  // empty while no container uses the volume
    std::string created_at;
    std::map<std::string, std::string> status;
};

struct DriverConfig {
    std::filesystem::path data_root;  // new volumes without backing= are directories here
    std::string boot_id;              // this boot's: users recorded under another one are gone
    // Stores the state; a failure fails the operation. The real one is save_state on the state file.
    std::function<Reply<void>(const State&)> persist;
};

class Driver {
  public:
    // Forgets the users of a previous boot, then lets the attacher take over live mounts.
    Driver(DriverConfig config, Attacher& attacher, State state);

    Reply<void> create(const std::string& name, const OptionMap& opts);
    Reply<void> remove(const std::string& name);
    Reply<std::string> mount(const std::string& name, const std::string& id);
    Reply<void> unmount(const std::string& name, const std::string& id);
    Reply<std::string> path(const std::string& name);
    Reply<VolumeView> get(const std::string& name);
    std::vector<VolumeView> list();

  private:
    Reply<VolumeRecord*> find(const std::string& name);
    Reply<AttachRequest> request_for(const std::string& name, const VolumeRecord& record) const;
    Reply<std::string> backing_for(const std::string& name, const VolumeOptions& options, bool& owned);
    VolumeView view(const std::string& name, const VolumeRecord& record) const;
    Reply<void> save();
    Reply<void> forget_stale_users(const std::string& name, VolumeRecord& record);

    DriverConfig config_;
    Attacher& attacher_;
    State state_;
    std::mutex mutex_;
};

// Docker's rule for volume names, checked again here because anything root can talk to the socket.
Reply<void> check_volume_name(const std::string& name);

}  // namespace fastfs::docker_plugin
