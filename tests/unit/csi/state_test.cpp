#include "fastfs/csi/state.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "fixtures.hpp"

namespace fastfs::csi {
namespace {

State sample() {
    State state;
    state.published["/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/m/mount"] =
        Publication{"csi-1", VolumeSpec{"models", Mode::clone, "llama/v2", false}};
    state.published["/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/w/mount"] =
        Publication{"pv-w", VolumeSpec{"models", Mode::view, "llama", true}};
    return state;
}

TEST(CsiState, RoundTripsThroughJson) {
    auto parsed = state_from_json(state_to_json(sample()));
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(*parsed, sample());
}

TEST(CsiState, DamageIsAnErrorNotAnEmptyState) {
    EXPECT_FALSE(state_from_json("{"));
    EXPECT_FALSE(state_from_json(R"({"version": 2, "published": {}})"));
    EXPECT_FALSE(state_from_json(R"({"version": 1, "published": {"/t": {"volume_id": "a/b", "backing": "m",
        "mode": "clone", "source": "", "readonly": false}}})"));
    EXPECT_FALSE(state_from_json(R"({"version": 1, "published": {"/t": {"volume_id": "a", "backing": "m",
        "mode": "copy", "source": "", "readonly": false}}})"));
    EXPECT_FALSE(
        state_from_json(R"({"version": 1, "published": {"relative": {"volume_id": "a", "backing": "m",
        "mode": "clone", "source": "", "readonly": false}}})"));
}

TEST(CsiState, SavedAtomicallyAndLoadedBack) {
    test::ScratchDir dir("fastfs-csi-state");
    auto file = dir.path() / "published.json";
    auto missing = load_state(file);
    ASSERT_TRUE(missing);
    EXPECT_TRUE(missing->published.empty());
    ASSERT_TRUE(save_state(file, sample()));
    auto loaded = load_state(file);
    ASSERT_TRUE(loaded) << loaded.error();
    EXPECT_EQ(*loaded, sample());
    std::ofstream(file) << "not json";
    EXPECT_FALSE(load_state(file));
}

}  // namespace
}  // namespace fastfs::csi
