// kubelet's two volume calls from a shell script (the container test): a real gRPC client over the socket.
//
//   csi_client SOCKET publish VOLUME_ID TARGET [--readonly] [KEY=VALUE ...]
//   csi_client SOCKET unpublish VOLUME_ID TARGET
//
// Adds kubelet's podInfoOnMount context to a publish. Exit status 0 for OK, else 1 with "CODE message".
// With FASTFS_CSI_CLIENT_TIME set, prints the milliseconds the call took, from sending to the answer (the
// copy benchmark: what kubelet waits, without this process's start).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "csi.grpc.pb.h"

namespace {

namespace v1 = csi::v1;

int report(const grpc::Status& status) {
    if (status.ok()) return 0;
    std::fprintf(stderr, "%d %s\n", static_cast<int>(status.error_code()), status.error_message().c_str());
    return 1;
}

int publish(v1::Node::Stub& node, int argc, char** argv) {
    v1::NodePublishVolumeRequest request;
    request.set_volume_id(argv[3]);
    request.set_target_path(argv[4]);
    request.mutable_volume_capability()->mutable_mount();
    request.mutable_volume_capability()->mutable_access_mode()->set_mode(
        v1::VolumeCapability::AccessMode::SINGLE_NODE_WRITER);
    auto& context = *request.mutable_volume_context();
    context["csi.storage.k8s.io/pod.name"] = "pod";
    context["csi.storage.k8s.io/pod.namespace"] = "default";
    context["csi.storage.k8s.io/pod.uid"] = "0000";
    context["csi.storage.k8s.io/serviceAccount.name"] = "default";
    context["csi.storage.k8s.io/ephemeral"] = "true";
    for (int i = 5; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--readonly") {
            request.set_readonly(true);
            continue;
        }
        auto equals = arg.find('=');
        if (equals == std::string::npos) return 2;
        context[arg.substr(0, equals)] = arg.substr(equals + 1);
    }
    grpc::ClientContext call;
    v1::NodePublishVolumeResponse response;
    auto started = std::chrono::steady_clock::now();
    auto status = node.NodePublishVolume(&call, request, &response);
    if (std::getenv("FASTFS_CSI_CLIENT_TIME") != nullptr)
        std::printf("%.1f\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    return report(status);
}

int unpublish(v1::Node::Stub& node, char** argv) {
    v1::NodeUnpublishVolumeRequest request;
    request.set_volume_id(argv[3]);
    request.set_target_path(argv[4]);
    grpc::ClientContext call;
    v1::NodeUnpublishVolumeResponse response;
    return report(node.NodeUnpublishVolume(&call, request, &response));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr,
                     "usage: csi_client SOCKET publish|unpublish VOLUME_ID TARGET [--readonly] [K=V...]\n");
        return 2;
    }
    auto channel = grpc::CreateChannel(std::string("unix://") + argv[1], grpc::InsecureChannelCredentials());
    auto node = v1::Node::NewStub(channel);
    std::string command = argv[2];
    if (command == "publish") return publish(*node, argc, argv);
    if (command == "unpublish") return unpublish(*node, argv);
    return 2;
}
