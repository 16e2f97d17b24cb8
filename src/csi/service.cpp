#include "fastfs/csi/service.hpp"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <thread>

#include "csi.grpc.pb.h"

namespace fastfs::csi {
namespace fs = std::filesystem;
namespace v1 = ::csi::v1;  // the generated code's package, csi.v1
namespace {

grpc::StatusCode to_grpc(Code code) {
    switch (code) {
        case Code::invalid_argument:
            return grpc::StatusCode::INVALID_ARGUMENT;
        case Code::not_found:
            return grpc::StatusCode::NOT_FOUND;
        case Code::already_exists:
            return grpc::StatusCode::ALREADY_EXISTS;
        case Code::failed_precondition:
            return grpc::StatusCode::FAILED_PRECONDITION;
        case Code::internal:
            return grpc::StatusCode::INTERNAL;
    }
    return grpc::StatusCode::INTERNAL;
}

grpc::Status to_status(const Error& error, std::string_view call) {
    spdlog::warn("{}: {}", call, error.message);
    return {to_grpc(error.code), error.message};
}

// No exception may cross into gRPC's threads: whatever escapes a handler becomes INTERNAL.
template <typename Handler>
grpc::Status guarded(std::string_view call, Handler&& handler) {
    try {
        return handler();
    } catch (const std::exception& error) {
        return to_status({Code::internal, std::string("unexpected error: ") + error.what()}, call);
    } catch (...) {
        return to_status({Code::internal, "unexpected error"}, call);
    }
}

class IdentityService final : public v1::Identity::Service {
  public:
    explicit IdentityService(Node& node, std::mutex& lock) : node_(node), lock_(lock) {}

    grpc::Status GetPluginInfo(grpc::ServerContext*, const v1::GetPluginInfoRequest*,
                               v1::GetPluginInfoResponse* response) override {
        response->set_name(kDriverName);
        response->set_vendor_version(FASTFS_VERSION);
        return grpc::Status::OK;
    }

    // Node-only: no CONTROLLER_SERVICE, no topology constraints.
    grpc::Status GetPluginCapabilities(grpc::ServerContext*, const v1::GetPluginCapabilitiesRequest*,
                                       v1::GetPluginCapabilitiesResponse*) override {
        return grpc::Status::OK;
    }

    grpc::Status Probe(grpc::ServerContext*, const v1::ProbeRequest*, v1::ProbeResponse* response) override {
        return guarded("Probe", [&] {
            std::lock_guard guard(lock_);
            response->mutable_ready()->set_value(node_.ready());
            return grpc::Status::OK;
        });
    }

  private:
    Node& node_;
    std::mutex& lock_;
};

std::map<std::string, std::string> to_map(const google::protobuf::Map<std::string, std::string>& in) {
    return {in.begin(), in.end()};
}

Reply<PublishRequest> to_publish_request(const v1::NodePublishVolumeRequest& in, const Backings& backings) {
    if (in.volume_id().empty()) return refuse(Code::invalid_argument, "volume_id is missing");
    if (in.target_path().empty()) return refuse(Code::invalid_argument, "target_path is missing");
    if (!in.has_volume_capability()) return refuse(Code::invalid_argument, "volume_capability is missing");
    const auto& capability = in.volume_capability();
    if (capability.has_block())
        return refuse(Code::invalid_argument,
                      "block access is not supported: fastfs volumes are directories");
    using AccessMode = v1::VolumeCapability::AccessMode;
    auto mode = capability.access_mode().mode();
    bool reader_only =
        mode == AccessMode::SINGLE_NODE_READER_ONLY || mode == AccessMode::MULTI_NODE_READER_ONLY;
    auto spec = parse_volume_context(to_map(in.volume_context()), in.readonly() || reader_only, backings);
    if (!spec) return std::unexpected(spec.error());
    return PublishRequest{in.volume_id(), in.target_path(), *spec,
                          mode == AccessMode::SINGLE_NODE_SINGLE_WRITER};
}

class NodeService final : public v1::Node::Service {
  public:
    NodeService(Node& node, std::mutex& lock, std::string node_id, Backings backings)
        : node_(node), lock_(lock), node_id_(std::move(node_id)), backings_(std::move(backings)) {}

    grpc::Status NodeStageVolume(grpc::ServerContext*, const v1::NodeStageVolumeRequest*,
                                 v1::NodeStageVolumeResponse*) override {
        return {grpc::StatusCode::UNIMPLEMENTED, "fastfs-csi does not stage volumes"};
    }
    grpc::Status NodeUnstageVolume(grpc::ServerContext*, const v1::NodeUnstageVolumeRequest*,
                                   v1::NodeUnstageVolumeResponse*) override {
        return {grpc::StatusCode::UNIMPLEMENTED, "fastfs-csi does not stage volumes"};
    }
    grpc::Status NodeExpandVolume(grpc::ServerContext*, const v1::NodeExpandVolumeRequest*,
                                  v1::NodeExpandVolumeResponse*) override {
        return {grpc::StatusCode::UNIMPLEMENTED, "fastfs-csi volumes have no size to expand"};
    }

    grpc::Status NodePublishVolume(grpc::ServerContext*, const v1::NodePublishVolumeRequest* request,
                                   v1::NodePublishVolumeResponse*) override {
        return guarded("NodePublishVolume", [&] {
            auto publish = to_publish_request(*request, backings_);
            if (!publish) return to_status(publish.error(), "NodePublishVolume " + request->volume_id());
            std::lock_guard guard(lock_);
            auto done = node_.publish(*publish);
            return done ? grpc::Status::OK
                        : to_status(done.error(), "NodePublishVolume " + request->volume_id());
        });
    }

    grpc::Status NodeUnpublishVolume(grpc::ServerContext*, const v1::NodeUnpublishVolumeRequest* request,
                                     v1::NodeUnpublishVolumeResponse*) override {
        return guarded("NodeUnpublishVolume", [&] {
            std::lock_guard guard(lock_);
            auto done = node_.unpublish(request->volume_id(), request->target_path());
            return done ? grpc::Status::OK
                        : to_status(done.error(), "NodeUnpublishVolume " + request->volume_id());
        });
    }

    grpc::Status NodeGetVolumeStats(grpc::ServerContext*, const v1::NodeGetVolumeStatsRequest* request,
                                    v1::NodeGetVolumeStatsResponse* response) override {
        return guarded("NodeGetVolumeStats", [&] {
            std::lock_guard guard(lock_);
            auto stats = node_.stats(request->volume_id(), request->volume_path());
            if (!stats) return to_status(stats.error(), "NodeGetVolumeStats");
            add_usage(response, v1::VolumeUsage::BYTES, stats->bytes_total, stats->bytes_available,
                      stats->bytes_used);
            add_usage(response, v1::VolumeUsage::INODES, stats->inodes_total, stats->inodes_available,
                      stats->inodes_used);
            return grpc::Status::OK;
        });
    }

    grpc::Status NodeGetCapabilities(grpc::ServerContext*, const v1::NodeGetCapabilitiesRequest*,
                                     v1::NodeGetCapabilitiesResponse* response) override {
        response->add_capabilities()->mutable_rpc()->set_type(
            v1::NodeServiceCapability::RPC::GET_VOLUME_STATS);
        return grpc::Status::OK;
    }

    grpc::Status NodeGetInfo(grpc::ServerContext*, const v1::NodeGetInfoRequest*,
                             v1::NodeGetInfoResponse* response) override {
        response->set_node_id(node_id_);
        return grpc::Status::OK;
    }

  private:
    static void add_usage(v1::NodeGetVolumeStatsResponse* response, v1::VolumeUsage::Unit unit, int64_t total,
                          int64_t available, int64_t used) {
        auto* usage = response->add_usage();
        usage->set_unit(unit);
        usage->set_total(total);
        usage->set_available(available);
        usage->set_used(used);
    }

    Node& node_;
    std::mutex& lock_;
    std::string node_id_;
    Backings backings_;
};

std::expected<fs::path, std::string> socket_path(const std::string& endpoint) {
    constexpr std::string_view kScheme = "unix://";
    if (!endpoint.starts_with(kScheme) || endpoint.size() <= kScheme.size() ||
        endpoint[kScheme.size()] != '/')
        return std::unexpected("--endpoint " + endpoint + ": must be unix:///absolute/path");
    return fs::path(endpoint.substr(kScheme.size()));
}

// A socket file left by a driver that died: binding would fail with EADDRINUSE. Only a socket is removed.
std::expected<void, std::string> remove_stale_socket(const fs::path& socket) {
    struct stat st {};
    if (::lstat(socket.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return std::unexpected(socket.string() + " exists and is not a socket");
    if (::unlink(socket.c_str()) != 0)
        return std::unexpected("cannot remove stale socket " + socket.string());
    spdlog::info("removed the stale socket {}", socket.string());
    return {};
}

// The termination signals, blocked in every thread (gRPC's included) and awaited by one.
sigset_t termination_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    return signals;
}

}  // namespace

std::expected<void, std::string> serve(const ServiceConfig& config, Node& node, const Backings& backings) {
    auto socket = socket_path(config.endpoint);
    if (!socket) return std::unexpected(socket.error());
    if (auto removed = remove_stale_socket(*socket); !removed) return removed;
    sigset_t signals = termination_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::mutex lock;
    IdentityService identity(node, lock);
    NodeService node_service(node, lock, config.node_id, backings);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(config.endpoint, grpc::InsecureServerCredentials());
    builder.RegisterService(&identity);
    builder.RegisterService(&node_service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (!server) return std::unexpected("cannot listen on " + config.endpoint);
    spdlog::info("serving CSI {} {} on {} as node {}", kDriverName, FASTFS_VERSION, config.endpoint,
                 config.node_id);
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("signal {}: stopping (published volumes stay mounted)", signal);
    server->Shutdown();
    ::unlink(socket->c_str());
    return {};
}

}  // namespace fastfs::csi
