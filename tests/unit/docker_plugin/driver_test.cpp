#include "fastfs/docker_plugin/driver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "fixtures.hpp"

namespace fastfs::docker_plugin {
namespace {

namespace fs = std::filesystem;

// Records what the driver asks for instead of mounting.
class FakeAttacher : public Attacher {
  public:
    Reply<fs::path> attach(const AttachRequest& request) override {
        if (fail_next) {
            fail_next = false;
            return std::unexpected("no fuse today");
        }
        ++attach_calls;
        attached_names.insert(request.name);
        last_request = request;
        return fs::path("/run/test/volumes") / request.name;
    }
    void detach(const std::string& name) override {
        attached_names.erase(name);
        detached.push_back(name);
    }
    std::optional<fs::path> attached(const std::string& name) const override {
        if (!attached_names.contains(name)) return std::nullopt;
        return fs::path("/run/test/volumes") / name;
    }
    bool held_by_containers(const AttachRequest&) const override { return held; }
    void adopt(const std::vector<AttachRequest>& in_use) override {
        for (const auto& request : in_use)
            adopted.push_back(request.name);
    }
    std::map<std::string, std::string> status(const std::string&) const override { return {}; }

    bool fail_next = false;
    bool held = true;
    int attach_calls = 0;
    std::set<std::string> attached_names;
    std::vector<std::string> detached;
    std::vector<std::string> adopted;
    AttachRequest last_request;
};

class DriverTest : public ::testing::Test {
  protected:
    DriverTest() {
        fs::create_directories(data_root());
        fs::create_directories(user_dir());
    }
    fs::path data_root() const { return scratch.path() / "data"; }
    fs::path user_dir() const { return scratch.path() / "models"; }

    Driver make(State state = {}, std::string boot = "boot-1") {
        DriverConfig config{data_root(), std::move(boot), [this](const State& s) -> Reply<void> {
                                if (refuse_save) return std::unexpected("disk full");
                                saved = s;
                                return {};
                            }};
        return Driver(std::move(config), attacher, std::move(state));
    }

    test::ScratchDir scratch;
    FakeAttacher attacher;
    State saved;
    bool refuse_save = false;
};

TEST_F(DriverTest, CreateWithoutBackingMakesAnOwnedDirectory) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    EXPECT_TRUE(fs::is_directory(data_root() / "work"));
    ASSERT_TRUE(saved.volumes.contains("work"));
    EXPECT_TRUE(saved.volumes["work"].owned);
    EXPECT_EQ(saved.volumes["work"].backing, (data_root() / "work").string());
    EXPECT_FALSE(saved.volumes["work"].created_at.empty());
}

TEST_F(DriverTest, CreateWithBackingKeepsTheUsersDirectory) {
    auto driver = make();
    ASSERT_TRUE(driver.create("models", {{"backing", user_dir().string()}}));
    EXPECT_FALSE(saved.volumes["models"].owned);
    std::ofstream(user_dir() / "weights") << "x";
    ASSERT_TRUE(driver.remove("models"));
    EXPECT_TRUE(fs::exists(user_dir() / "weights"));
    EXPECT_FALSE(saved.volumes.contains("models"));
}

TEST_F(DriverTest, RemoveDeletesOnlyWhatThePluginMade) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    std::ofstream(data_root() / "work" / "f") << "x";
    ASSERT_TRUE(driver.remove("work"));
    EXPECT_FALSE(fs::exists(data_root() / "work"));
}

TEST_F(DriverTest, CreateRefusesBadNamesOptionsAndMissingBacking) {
    auto driver = make();
    EXPECT_FALSE(driver.create("../etc", {}));
    EXPECT_FALSE(driver.create(".hidden", {}));
    EXPECT_FALSE(driver.create("", {}));
    auto bad = driver.create("v", {{"bogus", ""}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), "volume v: unknown option 'bogus'");
    auto missing = driver.create("v", {{"backing", (scratch.path() / "nope").string()}});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("No such file or directory"), std::string::npos) << missing.error();
    EXPECT_TRUE(saved.volumes.empty());
}

// A volume of /proc would give containers the host's processes as the fastfs daemon (root) opens them:
// refused at create with one line, also for a directory below the filesystem's root.
TEST_F(DriverTest, CreateRefusesAPseudoFilesystemBacking) {
    auto driver = make();
    for (const std::string backing : {"/proc", "/proc/sys"}) {
        auto refused = driver.create("v", {{"backing", backing}});
        ASSERT_FALSE(refused) << backing;
        EXPECT_EQ(refused.error(),
                  "backing " + backing +
                      " is on proc, a pseudo filesystem: fastfs serves files of a real filesystem");
    }
    EXPECT_TRUE(saved.volumes.empty());
    EXPECT_EQ(attacher.attach_calls, 0);
}

TEST_F(DriverTest, CreateTwiceIsFineWithTheSameOptionsOnly) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    EXPECT_TRUE(driver.create("work", {}));
    auto other = driver.create("work", {{"ro", ""}});
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error(), "volume work exists already with other options");
}

TEST_F(DriverTest, MountsAreCountedByIdAndTheLastUnmountDetaches) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {{"ro", "true"}, {"entry_timeout", "3"}}));
    auto first = driver.mount("work", "c1");
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(*first, "/run/test/volumes/work");
    EXPECT_EQ(attacher.last_request.options.mount_options, std::vector<std::string>{"entry_timeout=3"});
    ASSERT_TRUE(driver.mount("work", "c2"));
    EXPECT_EQ(saved.volumes["work"].users, (std::map<std::string, int>{{"c1", 1}, {"c2", 1}}));

    ASSERT_TRUE(driver.unmount("work", "c1"));
    EXPECT_TRUE(attacher.detached.empty());
    ASSERT_TRUE(driver.unmount("work", "unknown-id"));  // tolerated, changes nothing
    EXPECT_TRUE(attacher.detached.empty());
    ASSERT_TRUE(driver.unmount("work", "c2"));
    EXPECT_EQ(attacher.detached, std::vector<std::string>{"work"});
    EXPECT_TRUE(saved.volumes["work"].users.empty());
}

TEST_F(DriverTest, RemoveIsRefusedWhileInUse) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    ASSERT_TRUE(driver.mount("work", "c1"));
    auto refused = driver.remove("work");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), "volume work is in use by 1 container mount(s); stop those containers first");
    EXPECT_TRUE(fs::exists(data_root() / "work"));
    ASSERT_TRUE(driver.unmount("work", "c1"));
    EXPECT_TRUE(driver.remove("work"));
}

TEST_F(DriverTest, RemoveForgetsMountsNoContainerHolds) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    ASSERT_TRUE(driver.mount("work", "c1"));  // and Docker never says Unmount (dockerd was killed)
    attacher.held = false;
    ASSERT_TRUE(driver.remove("work"));
    EXPECT_EQ(attacher.detached, std::vector<std::string>{"work"});
    EXPECT_FALSE(fs::exists(data_root() / "work"));
}

TEST_F(DriverTest, AFailedAttachLeavesNoUser) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    attacher.fail_next = true;
    auto mounted = driver.mount("work", "c1");
    ASSERT_FALSE(mounted);
    EXPECT_EQ(mounted.error(), "volume work: no fuse today");
    EXPECT_TRUE(saved.volumes["work"].users.empty());
}

TEST_F(DriverTest, AnUnsavableMountIsUndone) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    refuse_save = true;
    auto mounted = driver.mount("work", "c1");
    ASSERT_FALSE(mounted);
    EXPECT_EQ(attacher.detached, std::vector<std::string>{"work"});
    refuse_save = false;
    EXPECT_TRUE(driver.remove("work"));  // not counted as in use
}

TEST_F(DriverTest, UsersSurviveARestartButNotAReboot) {
    State state;
    {
        auto driver = make({}, "boot-1");
        ASSERT_TRUE(driver.create("work", {}));
        ASSERT_TRUE(driver.mount("work", "c1"));
        state = saved;
    }
    {
        FakeAttacher fresh;
        attacher = fresh;
        auto driver = make(state, "boot-1");
        EXPECT_EQ(attacher.adopted, std::vector<std::string>{"work"});
        EXPECT_FALSE(driver.remove("work"));
    }
    {
        attacher = FakeAttacher{};
        auto driver = make(state, "boot-2");
        EXPECT_TRUE(attacher.adopted.empty());
        EXPECT_EQ(saved.boot_id, "boot-2");
        EXPECT_TRUE(driver.remove("work"));
    }
}

TEST_F(DriverTest, PathIsEmptyUntilMountedAndGetListShowWhatIsKnown) {
    auto driver = make();
    ASSERT_TRUE(driver.create("work", {}));
    EXPECT_EQ(driver.path("work").value(), "");
    ASSERT_TRUE(driver.mount("work", "c1"));
    EXPECT_EQ(driver.path("work").value(), "/run/test/volumes/work");
    auto view = driver.get("work");
    ASSERT_TRUE(view);
    EXPECT_EQ(view->mountpoint, "/run/test/volumes/work");
    EXPECT_EQ(view->status.at("users"), "1");
    EXPECT_EQ(driver.list().size(), 1u);
    EXPECT_FALSE(driver.get("nope"));
    EXPECT_EQ(driver.get("nope").error(), "no such volume: nope");
}

}  // namespace
}  // namespace fastfs::docker_plugin
