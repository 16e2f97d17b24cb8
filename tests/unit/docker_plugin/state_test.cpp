#include "fastfs/docker_plugin/state.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "fixtures.hpp"

namespace fastfs::docker_plugin {
namespace {

State sample() {
    State state;
    state.boot_id = "boot-1";
    VolumeRecord models;
    models.backing = "/srv/models";
    models.options = {{"backing", "/srv/models"}, {"ro", "true"}};
    models.created_at = "2026-11-28T19:40:00Z";
    models.users = {{"abc", 1}, {"def", 2}};
    VolumeRecord work;
    work.backing = "/var/lib/fastfs-docker-plugin/volumes/work";
    work.owned = true;
    state.volumes = {{"models", models}, {"work", work}};
    return state;
}

TEST(State, RoundTripsThroughJson) {
    auto back = state_from_json(state_to_json(sample()));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(*back, sample());
}

TEST(State, DamageIsAnErrorNotAnEmptyState) {
    EXPECT_FALSE(state_from_json(""));
    EXPECT_FALSE(state_from_json("{\"version\": 1, \"volumes\": {\"a\": {\"owned\": false}}}"));
    EXPECT_FALSE(
        state_from_json("{\"version\": 1, \"volumes\": {\"a\": {\"backing\": 3, \"owned\": false}}}"));
    EXPECT_FALSE(
        state_from_json("{\"version\": 1, \"volumes\": {\"a\": {\"backing\": \"rel\", \"owned\": false}}}"));
    EXPECT_FALSE(state_from_json("[1, 2]"));
    auto future = state_from_json("{\"version\": 2, \"volumes\": {}}");
    ASSERT_FALSE(future);
    EXPECT_EQ(future.error(), "unknown state version (expected 1)");
}

TEST(State, MissingFileIsEmpty) {
    test::ScratchDir dir;
    auto state = load_state(dir.path() / "volumes.json");
    ASSERT_TRUE(state) << state.error();
    EXPECT_TRUE(state->volumes.empty());
}

TEST(State, SaveReplacesTheFileWhole) {
    test::ScratchDir dir;
    auto file = dir.path() / "volumes.json";
    ASSERT_TRUE(save_state(file, sample()));
    State smaller;
    smaller.boot_id = "boot-2";
    ASSERT_TRUE(save_state(file, smaller));
    auto loaded = load_state(file);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(*loaded, smaller);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Nothing but the file itself: the temporary name is gone.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(State, LoadNamesTheFileInItsError) {
    test::ScratchDir dir;
    auto file = dir.path() / "volumes.json";
    std::ofstream(file) << "{ not json";
    auto loaded = load_state(file);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error(), file.string() + ": not a JSON object");
}

}  // namespace
}  // namespace fastfs::docker_plugin
