#include "fastfs/docker_plugin/protocol.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "fixtures.hpp"

namespace fastfs::docker_plugin {
namespace {

using nlohmann::json;

class NullAttacher : public Attacher {
  public:
    Reply<std::filesystem::path> attach(const AttachRequest& request) override {
        return std::filesystem::path("/m") / request.name;
    }
    void detach(const std::string&) override {}
    std::optional<std::filesystem::path> attached(const std::string&) const override { return std::nullopt; }
    bool held_by_containers(const AttachRequest&) const override { return true; }
    void adopt(const std::vector<AttachRequest>&) override {}
    std::map<std::string, std::string> status(const std::string&) const override { return {}; }
};

class ProtocolTest : public ::testing::Test {
  protected:
    ProtocolTest()
        : driver_(DriverConfig{scratch_.path(), "boot", [](const State&) -> Reply<void> { return {}; }},
                  attacher_, State{}) {}

    json call(std::string_view method, std::string_view body, int expected_status = 200) {
        auto answer = handle_call(driver_, method, body);
        EXPECT_EQ(answer.status, expected_status) << method << " " << answer.body;
        return json::parse(answer.body);
    }

    test::ScratchDir scratch_;
    NullAttacher attacher_;
    Driver driver_;
};

TEST_F(ProtocolTest, HandshakeAndCapabilities) {
    EXPECT_EQ(call("Plugin.Activate", ""), json::parse(R"({"Implements": ["VolumeDriver"]})"));
    EXPECT_EQ(call("Plugin.Activate", "null"), json::parse(R"({"Implements": ["VolumeDriver"]})"));
    EXPECT_EQ(call("VolumeDriver.Capabilities", "{}"),
              json::parse(R"({"Capabilities": {"Scope": "local"}})"));
}

TEST_F(ProtocolTest, VolumeLifecycle) {
    EXPECT_EQ(call("VolumeDriver.Create", R"({"Name": "v", "Opts": {"ro": "true"}})"),
              json::parse(R"({"Err": ""})"));
    EXPECT_EQ(call("VolumeDriver.Create", R"({"Name": "w", "Opts": null})")["Err"], "");
    auto mounted = call("VolumeDriver.Mount", R"({"Name": "v", "ID": "abc"})");
    EXPECT_EQ(mounted, json::parse(R"({"Mountpoint": "/m/v", "Err": ""})"));
    auto got = call("VolumeDriver.Get", R"({"Name": "v"})");
    EXPECT_EQ(got["Err"], "");
    EXPECT_EQ(got["Volume"]["Name"], "v");
    EXPECT_TRUE(got["Volume"]["Status"].contains("backing"));
    auto listed = call("VolumeDriver.List", "{}");
    ASSERT_EQ(listed["Volumes"].size(), 2u);
    EXPECT_EQ(listed["Volumes"][0]["Name"], "v");
    EXPECT_EQ(call("VolumeDriver.Path", R"({"Name": "v"})")["Mountpoint"], "/m/v");
    EXPECT_NE(call("VolumeDriver.Remove", R"({"Name": "v"})")["Err"], "");
    EXPECT_EQ(call("VolumeDriver.Unmount", R"({"Name": "v", "ID": "abc"})")["Err"], "");
    EXPECT_EQ(call("VolumeDriver.Remove", R"({"Name": "v"})")["Err"], "");
}

TEST_F(ProtocolTest, ErrorsAreJsonWithErr) {
    EXPECT_EQ(call("VolumeDriver.Get", R"({"Name": "nope"})")["Err"], "no such volume: nope");
    EXPECT_EQ(call("VolumeDriver.Create", R"({"Name": "v", "Opts": {"ro": true}})")["Err"],
              "option 'ro' is not a string");
    EXPECT_EQ(call("VolumeDriver.Mount", R"({"Name": "nope", "ID": "x"})")["Err"], "no such volume: nope");
    EXPECT_EQ(call("VolumeDriver.Create", "{not json", 400)["Err"], "request body is not JSON");
    EXPECT_EQ(call("VolumeDriver.Create", "[]", 400)["Err"], "request body is not a JSON object");
    EXPECT_EQ(call("VolumeDriver.Explode", "{}", 404)["Err"], "unknown method VolumeDriver.Explode");
}

}  // namespace
}  // namespace fastfs::docker_plugin
