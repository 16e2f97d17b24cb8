// fastfs-csi driven the way kubelet drives it: the Identity calls at plugin registration, then
// NodePublishVolume / NodeUnpublishVolume with kubelet's target paths and podInfoOnMount context, retries,
// calls out of order, bad attributes, and a driver killed with SIGKILL and started again. Real gRPC over the
// unix socket, the real fastfs-csi process, real fastfs mounts over a loop-mounted XFS (reflink=1).
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <ranges>
#include <sstream>
#include <thread>

#include "csi.grpc.pb.h"
#include "gtest_support.hpp"

namespace fastfs::test {
namespace {

namespace v1 = csi::v1;
using grpc::StatusCode;

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text;
}

// Mount points at or below `dir` in this namespace, children first.
std::vector<fs::path> mounts_below(const fs::path& dir) {
    std::vector<fs::path> found;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point;
        fields >> id >> parent >> device >> root >> point;
        fs::path path(point);
        auto relative = path.lexically_relative(dir);
        if (!relative.empty() && *relative.begin() != "..") found.push_back(path);
    }
    std::ranges::reverse(found);
    return found;
}

// Every file of `file` is in extents the filesystem marks shared (filefrag -v on the backing XFS).
bool extents_shared(const fs::path& file) {
    auto r = run("filefrag -v " + shell_quote(file.string()));
    if (r.exit_code != 0) return false;
    int extents = 0, shared = 0;
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find("..") == std::string::npos || line.find(':') == std::string::npos) continue;
        ++extents;
        if (line.find("shared") != std::string::npos) ++shared;
    }
    return extents > 0 && shared == extents;
}

// The "node": an XFS with a model tree in a backing directory, kubelet's directory, and fastfs-csi.
class CsiNodeTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // A private mount namespace for this test process: nothing it mounts is seen outside.
        if (::unshare(CLONE_NEWNS) == 0) ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
    }

    void SetUp() override {
        std::string why;
        auto xfs = LoopFilesystem::create(FsType::xfs, 512ull << 20, &why);
        FASTFS_REQUIRE(xfs, why);
        xfs_.emplace(std::move(*xfs));
        FASTFS_REQUIRE(::access("/dev/fuse", R_OK | W_OK) == 0, "no /dev/fuse");
        backing_ = xfs_->path() / "models";
        fs::create_directories(backing_ / "llama" / "v2" / "tokenizer");
        for (int i = 0; i < 8; ++i)
            write_text(backing_ / "llama" / "v2" / ("shard-" + std::to_string(i)),
                       std::string(256 << 10, char('a' + i)));
        write_text(backing_ / "llama" / "v2" / "tokenizer" / "vocab.txt", "hello world\n");
        fs::create_symlink("v2", backing_ / "llama" / "latest");
        fs::create_symlink("/etc", backing_ / "escape");
        fs::create_directories(xfs_->path() / "outside");
        root_ = work_.path();
        kubelet_ = root_ / "kubelet";
        fs::create_directories(kubelet_ / "plugins" / "fastfs.csi.fastfs.dev");
        start_driver();
    }

    void TearDown() override {
        stop_driver(SIGTERM);
        if (HasFailure()) std::cerr << "fastfs-csi's log:\n" << read_text(root_ / "driver.log");
        for (const auto& point : mounts_below(root_))
            ::umount2(point.c_str(), MNT_DETACH);
        if (xfs_) {
            for (const auto& point : mounts_below(xfs_->path()))
                if (point != xfs_->path()) ::umount2(point.c_str(), MNT_DETACH);
        }
        // The fastfs daemons exit once their mounts are gone; the XFS can then be unmounted.
        for (int i = 0;
             i < 50 && run("pgrep -f " + shell_quote("[f]astfs " + backing_.string())).exit_code == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }

    fs::path socket() const { return kubelet_ / "plugins" / "fastfs.csi.fastfs.dev" / "csi.sock"; }

    void start_driver() {
        std::vector<std::string> args = {FASTFS_CSI_BINARY_PATH,
                                         "--endpoint=unix://" + socket().string(),
                                         "--node-id=node-a",
                                         "--state-dir=" + (root_ / "state").string(),
                                         "--mount-root=" + (root_ / "mounts").string(),
                                         "--backing=models=" + backing_.string(),
                                         "--fastfs=" + fastfs_binary()};
        // posix_spawn, not fork: this process runs gRPC threads, and a fork would run gRPC's fork handlers.
        fs::path log = root_ / "driver.log";
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        int rc = ::posix_spawn(&driver_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ASSERT_EQ(rc, 0) << "cannot start " << argv[0];
        auto channel = grpc::CreateChannel("unix://" + socket().string(), grpc::InsecureChannelCredentials());
        ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(20)))
            << read_text(log);
        identity_ = v1::Identity::NewStub(channel);
        node_ = v1::Node::NewStub(channel);
    }

    void stop_driver(int signal) {
        identity_.reset();  // the next driver gets a new channel
        node_.reset();
        if (driver_ <= 0) return;
        ::kill(driver_, signal);
        int status = 0;
        ::waitpid(driver_, &status, 0);
        driver_ = -1;
    }

    // kubelet's target for a pod's volume.
    fs::path target(const std::string& pod_uid, const std::string& volume) const {
        fs::path dir = kubelet_ / "pods" / pod_uid / "volumes" / "kubernetes.io~csi" / volume;
        fs::create_directories(dir);  // kubelet makes the parent; the driver makes "mount"
        return dir / "mount";
    }

    // NodePublishVolume as kubelet sends it with podInfoOnMount: for an inline ephemeral volume, or a PV.
    v1::NodePublishVolumeRequest publish_request(const std::string& volume_id, const fs::path& target_path,
                                                 std::map<std::string, std::string> attributes,
                                                 bool readonly = false) {
        v1::NodePublishVolumeRequest request;
        request.set_volume_id(volume_id);
        request.set_target_path(target_path.string());
        request.set_readonly(readonly);
        auto* capability = request.mutable_volume_capability();
        capability->mutable_mount();
        capability->mutable_access_mode()->set_mode(v1::VolumeCapability::AccessMode::SINGLE_NODE_WRITER);
        attributes.emplace("csi.storage.k8s.io/pod.name", "inference-0");
        attributes.emplace("csi.storage.k8s.io/pod.namespace", "default");
        attributes.emplace("csi.storage.k8s.io/pod.uid", "3f2a");
        attributes.emplace("csi.storage.k8s.io/serviceAccount.name", "default");
        // Volume IDs made up by these tests for PersistentVolumes start with "pv-"; kubelet says false for
        // those.
        attributes.emplace("csi.storage.k8s.io/ephemeral", volume_id.starts_with("pv-") ? "false" : "true");
        request.mutable_volume_context()->insert(attributes.begin(), attributes.end());
        return request;
    }

    grpc::Status publish(const v1::NodePublishVolumeRequest& request) {
        grpc::ClientContext context;
        v1::NodePublishVolumeResponse response;
        return node_->NodePublishVolume(&context, request, &response);
    }

    grpc::Status unpublish(const std::string& volume_id, const fs::path& target_path) {
        grpc::ClientContext context;
        v1::NodeUnpublishVolumeRequest request;
        request.set_volume_id(volume_id);
        request.set_target_path(target_path.string());
        v1::NodeUnpublishVolumeResponse response;
        return node_->NodeUnpublishVolume(&context, request, &response);
    }

    fs::path volume_dir(const std::string& volume_id) const {
        return backing_ / ".fastfs-csi" / "volumes" / volume_id;
    }

    ScratchDir work_{"fastfs-csi-test"};
    std::optional<LoopFilesystem> xfs_;
    fs::path backing_, root_, kubelet_;
    pid_t driver_ = -1;
    std::unique_ptr<v1::Identity::Stub> identity_;
    std::unique_ptr<v1::Node::Stub> node_;
};

#define EXPECT_CODE(status, code) EXPECT_EQ((status).error_code(), (code)) << (status).error_message()

// What kubelet asks when it registers the plugin (through node-driver-registrar) and before its first mount.
TEST_F(CsiNodeTest, RegistrationCalls) {
    grpc::ClientContext c1, c2, c3, c4, c5;
    v1::GetPluginInfoResponse info;
    ASSERT_TRUE(identity_->GetPluginInfo(&c1, {}, &info).ok());
    EXPECT_EQ(info.name(), "fastfs.csi.fastfs.dev");
    EXPECT_EQ(info.vendor_version(), FASTFS_VERSION);
    v1::GetPluginCapabilitiesResponse plugin_caps;
    ASSERT_TRUE(identity_->GetPluginCapabilities(&c2, {}, &plugin_caps).ok());
    EXPECT_EQ(plugin_caps.capabilities_size(), 0);  // node-only: no controller service
    v1::ProbeResponse probe;
    ASSERT_TRUE(identity_->Probe(&c3, {}, &probe).ok());
    EXPECT_TRUE(probe.ready().value());
    v1::NodeGetCapabilitiesResponse node_caps;
    ASSERT_TRUE(node_->NodeGetCapabilities(&c4, {}, &node_caps).ok());
    ASSERT_EQ(node_caps.capabilities_size(), 1);
    EXPECT_EQ(node_caps.capabilities(0).rpc().type(), v1::NodeServiceCapability::RPC::GET_VOLUME_STATS);
    v1::NodeGetInfoResponse node_info;
    ASSERT_TRUE(node_->NodeGetInfo(&c5, {}, &node_info).ok());
    EXPECT_EQ(node_info.node_id(), "node-a");
    grpc::ClientContext c6;
    v1::NodeStageVolumeResponse staged;
    EXPECT_CODE(node_->NodeStageVolume(&c6, {}, &staged), StatusCode::UNIMPLEMENTED);
}

// A clone volume: the pod's own tree, every extent shared with the source, writes never reaching it.
TEST_F(CsiNodeTest, CloneSharesExtentsAndKeepsTheSourceIntact) {
    auto models = target("pod-1", "models");
    auto request = publish_request("csi-clone-1", models,
                                   {{"backing", "models"}, {"mode", "clone"}, {"source", "llama/latest"}});
    ASSERT_TRUE(publish(request).ok()) << publish(request).error_message();
    EXPECT_TRUE(publish(request).ok()) << "a retry of the same publish must be OK";
    EXPECT_EQ(read_text(models / "tokenizer" / "vocab.txt"), "hello world\n");
    EXPECT_EQ(fs::file_size(models / "shard-3"), 256u << 10);
    EXPECT_TRUE(extents_shared(volume_dir("csi-clone-1") / "shard-3"));
    EXPECT_TRUE(extents_shared(backing_ / "llama" / "v2" / "shard-3"));
    write_text(models / "shard-3", "changed");
    write_text(models / "new-file", "new");
    EXPECT_EQ(fs::file_size(backing_ / "llama" / "v2" / "shard-3"), 256u << 10);
    EXPECT_FALSE(fs::exists(backing_ / "llama" / "v2" / "new-file"));

    // A scratch volume of the same pod is on the same fastfs mount: a copy into it is a reflink.
    auto scratch = target("pod-1", "scratch");
    ASSERT_TRUE(
        publish(publish_request("csi-scratch-1", scratch, {{"backing", "models"}, {"mode", "scratch"}}))
            .ok());
    EXPECT_TRUE(fs::is_empty(scratch));
    // cp's copy_file_range reaches the daemon as one COPY_FILE_RANGE (FUSE has no FICLONE), which reflinks.
    auto copied = run("cp " + shell_quote((models / "shard-5").string()) + " " +
                      shell_quote((scratch / "shard-5").string()));
    EXPECT_EQ(copied.exit_code, 0) << copied.output;
    EXPECT_TRUE(extents_shared(volume_dir("csi-scratch-1") / "shard-5"));

    grpc::ClientContext context;
    v1::NodeGetVolumeStatsRequest stats_request;
    stats_request.set_volume_id("csi-clone-1");
    stats_request.set_volume_path(models.string());
    v1::NodeGetVolumeStatsResponse stats;
    ASSERT_TRUE(node_->NodeGetVolumeStats(&context, stats_request, &stats).ok());
    EXPECT_EQ(stats.usage_size(), 2);

    for (const auto& [id, path] : {std::pair{"csi-clone-1", models}, {"csi-scratch-1", scratch}}) {
        ASSERT_TRUE(unpublish(id, path).ok());
        EXPECT_TRUE(unpublish(id, path).ok()) << "a repeated unpublish must be OK";
        EXPECT_FALSE(fs::exists(path));
        EXPECT_FALSE(fs::exists(volume_dir(id)));
    }
    EXPECT_EQ(fs::file_size(backing_ / "llama" / "v2" / "shard-3"), 256u << 10);
}

// A read-only view refuses every write, tree copies included; a writable view writes the backing.
TEST_F(CsiNodeTest, ReadOnlyViewRefusesWritesAndTreeCopies) {
    auto view = target("pod-2", "weights");
    ASSERT_TRUE(publish(publish_request("pv-weights", view,
                                        {{"backing", "models"}, {"mode", "view"}, {"source", "llama"}},
                                        /*readonly=*/true))
                    .ok());
    EXPECT_EQ(read_text(view / "v2" / "tokenizer" / "vocab.txt"), "hello world\n");
    EXPECT_NE(run("touch " + shell_quote((view / "x").string())).exit_code, 0);
    auto copy = run(fastfs_binary() + " copy -r " + shell_quote((view / "v2").string()) + " " +
                    shell_quote((view / "v3").string()));
    EXPECT_NE(copy.exit_code, 0) << copy.output;
    auto clone = run(fastfs_binary() + " clone -r " + shell_quote((view / "v2").string()) + " " +
                     shell_quote((view / "v4").string()));
    EXPECT_NE(clone.exit_code, 0) << clone.output;
    EXPECT_FALSE(fs::exists(backing_ / "llama" / "v3"));
    EXPECT_FALSE(fs::exists(backing_ / "llama" / "v4"));
    ASSERT_TRUE(unpublish("pv-weights", view).ok());
    EXPECT_TRUE(fs::exists(backing_ / "llama" / "v2" / "shard-0")) << "unpublishing a view deletes nothing";

    auto rw = target("pod-2", "rw");
    ASSERT_TRUE(
        publish(publish_request("pv-rw", rw, {{"backing", "models"}, {"mode", "view"}, {"source", "llama"}}))
            .ok());
    write_text(rw / "written", "x");
    EXPECT_TRUE(fs::exists(backing_ / "llama" / "written"));
    ASSERT_TRUE(unpublish("pv-rw", rw).ok());
}

// Each bad request gets its own status code, and leaves nothing mounted.
TEST_F(CsiNodeTest, BadRequestsGetTheSpecsCodes) {
    auto t = target("pod-3", "bad");
    auto expect = [&](std::map<std::string, std::string> attributes, StatusCode code) {
        auto status = publish(publish_request("csi-bad", t, attributes));
        EXPECT_CODE(status, code);
        EXPECT_FALSE(status.error_message().empty());
    };
    expect({{"mode", "clone"}, {"source", "llama/v2"}}, StatusCode::INVALID_ARGUMENT);  // no backing
    expect({{"backing", "other"}, {"mode", "clone"}, {"source", "llama/v2"}},
           StatusCode::INVALID_ARGUMENT);  // unknown
    expect({{"backing", "models"}, {"mode", "copy-ish"}, {"source", "llama"}}, StatusCode::INVALID_ARGUMENT);
    expect({{"backing", "models"}, {"source", "llama"}}, StatusCode::INVALID_ARGUMENT);  // no mode
    expect({{"backing", "models"}, {"mode", "clone"}}, StatusCode::INVALID_ARGUMENT);    // no source
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "../outside"}, {"readOnly", "true"}},
           StatusCode::INVALID_ARGUMENT);
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "/etc"}, {"readOnly", "true"}},
           StatusCode::INVALID_ARGUMENT);
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "escape"}, {"readOnly", "true"}},
           StatusCode::INVALID_ARGUMENT);
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "llama/nothing"}, {"readOnly", "true"}},
           StatusCode::NOT_FOUND);
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "llama"}, {"colour", "red"}},
           StatusCode::INVALID_ARGUMENT);
    // Any pod author writes inline volumes: a writable view of the shared backing needs a PV.
    expect({{"backing", "models"}, {"mode", "view"}, {"source", "llama"}}, StatusCode::INVALID_ARGUMENT);

    auto request = publish_request("csi-bad", t, {{"backing", "models"}, {"mode", "scratch"}});
    request.mutable_volume_capability()->mutable_block();
    EXPECT_CODE(publish(request), StatusCode::INVALID_ARGUMENT);
    request.clear_volume_capability();
    EXPECT_CODE(publish(request), StatusCode::INVALID_ARGUMENT);
    auto no_id = publish_request("", t, {{"backing", "models"}, {"mode", "scratch"}});
    EXPECT_CODE(publish(no_id), StatusCode::INVALID_ARGUMENT);
    auto no_target = publish_request("csi-bad", "", {{"backing", "models"}, {"mode", "scratch"}});
    EXPECT_CODE(publish(no_target), StatusCode::INVALID_ARGUMENT);
    auto slash = publish_request("a/../b", t, {{"backing", "models"}, {"mode", "scratch"}});
    EXPECT_CODE(publish(slash), StatusCode::INVALID_ARGUMENT);
    EXPECT_CODE(unpublish("", t), StatusCode::INVALID_ARGUMENT);
    EXPECT_TRUE(mounts_below(kubelet_).empty());

    // Out of order: unpublishing what was never published is OK.
    EXPECT_TRUE(unpublish("csi-never", target("pod-9", "never")).ok());
}

// Kubelet may publish one volume at two targets (a PV in two pods of the node) but not differently.
TEST_F(CsiNodeTest, ConflictingPublishesAreRefused) {
    auto a = target("pod-4", "data"), b = target("pod-5", "data");
    auto attributes = std::map<std::string, std::string>{{"backing", "models"}, {"mode", "scratch"}};
    ASSERT_TRUE(publish(publish_request("pv-shared", a, attributes)).ok());
    ASSERT_TRUE(publish(publish_request("pv-shared", b, attributes)).ok());
    write_text(a / "seen", "by both");
    EXPECT_EQ(read_text(b / "seen"), "by both");
    EXPECT_CODE(publish(publish_request("pv-other", a, attributes)), StatusCode::ALREADY_EXISTS);
    EXPECT_CODE(publish(publish_request("pv-shared", a, attributes, /*readonly=*/true)),
                StatusCode::ALREADY_EXISTS);
    EXPECT_CODE(publish(publish_request("pv-shared", target("pod-6", "data"),
                                        {{"backing", "models"}, {"mode", "clone"}, {"source", "llama"}})),
                StatusCode::ALREADY_EXISTS);
    ASSERT_TRUE(unpublish("pv-shared", a).ok());
    EXPECT_EQ(read_text(b / "seen"), "by both") << "still published at b: the directory stays";
    ASSERT_TRUE(unpublish("pv-shared", b).ok());
    EXPECT_FALSE(fs::exists(volume_dir("pv-shared")));
}

// kill -9 and start again: published targets keep working, one whose bind was lost is bound again before
// the driver serves, and unpublish still cleans up.
TEST_F(CsiNodeTest, RestartKeepsPublishedVolumes) {
    auto models = target("pod-7", "models");
    auto request = publish_request("csi-clone-7", models,
                                   {{"backing", "models"}, {"mode", "clone"}, {"source", "llama/v2"}});
    ASSERT_TRUE(publish(request).ok());
    auto lost = target("pod-7", "lost");
    ASSERT_TRUE(
        publish(publish_request("csi-scratch-7", lost, {{"backing", "models"}, {"mode", "scratch"}})).ok());
    write_text(models / "before", "1");
    write_text(lost / "kept", "k");
    stop_driver(SIGKILL);
    EXPECT_TRUE(fs::exists(socket())) << "the killed driver leaves its socket: the new one must replace it";
    ASSERT_EQ(::umount2(lost.c_str(), 0), 0);  // the bind is gone while no driver runs
    start_driver();
    EXPECT_EQ(read_text(models / "before"), "1");
    write_text(models / "after", "2");
    EXPECT_EQ(read_text(volume_dir("csi-clone-7") / "after"), "2");
    EXPECT_EQ(read_text(lost / "kept"), "k") << "bound again at start";
    auto retried = publish(request);
    EXPECT_TRUE(retried.ok()) << "kubelet's retry after the restart: " << retried.error_message();
    EXPECT_EQ(read_text(models / "after"), "2") << "the retry must not clone again";
    for (const auto& [id, path] : {std::pair{"csi-clone-7", models}, {"csi-scratch-7", lost}}) {
        auto unpublished = unpublish(id, path);
        ASSERT_TRUE(unpublished.ok()) << unpublished.error_message();
        EXPECT_FALSE(fs::exists(volume_dir(id)));
    }
    EXPECT_TRUE(mounts_below(kubelet_).empty());
}

// The backing's fastfs daemon dies: the next publish mounts it again.
TEST_F(CsiNodeTest, DeadFastfsMountIsMountedAgain) {
    auto first = target("pod-8", "scratch");
    ASSERT_TRUE(publish(publish_request("csi-s8", first, {{"backing", "models"}, {"mode", "scratch"}})).ok());
    // The daemon this test's driver started (its command line names this test's private directories).
    auto daemon = run("pgrep -f " + shell_quote("[f]astfs " + backing_.string() + " " +
                                                (root_ / "mounts" / "models").string()));
    ASSERT_EQ(daemon.exit_code, 0) << daemon.output;
    ASSERT_EQ(::kill(std::stoi(daemon.output), SIGKILL), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto second = target("pod-8", "models");
    auto status = publish(publish_request(
        "csi-c8", second, {{"backing", "models"}, {"mode", "clone"}, {"source", "llama/v2"}}));
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(read_text(second / "tokenizer" / "vocab.txt"), "hello world\n");
    EXPECT_TRUE(fs::is_directory(first)) << "the scratch target is bound again from the new mount";
    ASSERT_TRUE(unpublish("csi-c8", second).ok());
    ASSERT_TRUE(unpublish("csi-s8", first).ok());
}

// Backings are checked when the driver starts: a pseudo filesystem or a missing directory is refused.
TEST(CsiDriverStart, RefusesBadBackings) {
    for (const auto& [backing, words] : {std::pair{"proc=/proc", "pseudo filesystem"},
                                         {"gone=/nonexistent/dir", "not a directory"},
                                         {"../x=/tmp", "expected NAME=DIR"}}) {
        auto r = run(std::string(FASTFS_CSI_BINARY_PATH) +
                     " --endpoint unix:///nonexistent/csi.sock --backing " + shell_quote(backing));
        EXPECT_EQ(r.exit_code, 1) << r.output;
        EXPECT_NE(r.output.find(words), std::string::npos) << r.output;
    }
}

// `fastfs csi ...` is the driver, run from beside fastfs.
TEST(CsiDriverStart, ReachableAsFastfsCsi) {
    auto r = run(fastfs_binary() + " csi --version");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("fastfs-csi " FASTFS_VERSION), std::string::npos) << r.output;
}

}  // namespace
}  // namespace fastfs::test
