#include "fastfs/csi/volume.hpp"

#include <gtest/gtest.h>

namespace fastfs::csi {
namespace {

using Attributes = std::map<std::string, std::string>;
const Backings kBackings = {{"models", "/srv/models"}};

Reply<VolumeSpec> parse(Attributes attributes, bool readonly = false) {
    return parse_volume_context(attributes, readonly, kBackings);
}

TEST(VolumeContext, ClonePlusKubeletsPodInfo) {
    auto spec = parse({{"backing", "models"},
                       {"mode", "clone"},
                       {"source", "llama/./v2/"},
                       {"csi.storage.k8s.io/pod.name", "p"},
                       {"csi.storage.k8s.io/ephemeral", "true"}});
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(spec->backing, "models");
    EXPECT_EQ(spec->mode, Mode::clone);
    EXPECT_EQ(spec->source, "llama/v2/");
    EXPECT_FALSE(spec->readonly);
}

TEST(VolumeContext, ReadOnlyFromTheFlagOrTheAttribute) {
    EXPECT_TRUE(parse({{"backing", "models"}, {"mode", "view"}, {"source", "a"}}, true)->readonly);
    EXPECT_TRUE(
        parse({{"backing", "models"}, {"mode", "view"}, {"source", "a"}, {"readOnly", "true"}})->readonly);
    EXPECT_FALSE(
        parse({{"backing", "models"}, {"mode", "view"}, {"source", "a"}, {"readOnly", "false"}})->readonly);
    EXPECT_EQ(
        parse({{"backing", "models"}, {"mode", "view"}, {"source", "a"}, {"readOnly", "yes"}}).error().code,
        Code::invalid_argument);
}

TEST(VolumeContext, EachMistakeIsInvalidArgumentWithOneLine) {
    for (const Attributes& attributes : std::vector<Attributes>{
             {{"mode", "clone"}, {"source", "a"}},
             {{"backing", "nope"}, {"mode", "clone"}, {"source", "a"}},
             {{"backing", "models"}, {"source", "a"}},
             {{"backing", "models"}, {"mode", "copy"}, {"source", "a"}},
             {{"backing", "models"}, {"mode", "clone"}},
             {{"backing", "models"}, {"mode", "view"}, {"source", "/etc"}},
             {{"backing", "models"}, {"mode", "view"}, {"source", "a/../../etc"}},
             {{"backing", "models"}, {"mode", "view"}, {"source", "."}},
             {{"backing", "models"}, {"mode", "view"}, {"source", ".fastfs-csi/volumes/x"}},
             {{"backing", "models"}, {"mode", "scratch"}, {"source", "a"}},
             {{"backing", "models"}, {"mode", "scratch"}, {"sourec", "a"}},
         }) {
        auto spec = parse(attributes);
        ASSERT_FALSE(spec);
        EXPECT_EQ(spec.error().code, Code::invalid_argument);
        EXPECT_EQ(spec.error().message.find('\n'), std::string::npos);
        EXPECT_FALSE(spec.error().message.empty());
    }
}

// Any pod author can write an inline volume: a writable view of the shared backing only through a PV.
TEST(VolumeContext, InlineViewsAreReadOnly) {
    std::map<std::string, std::string> inline_view{{"backing", "models"},
                                                   {"mode", "view"},
                                                   {"source", "llama"},
                                                   {"csi.storage.k8s.io/ephemeral", "true"}};
    auto refused = parse_volume_context(inline_view, false, kBackings);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Code::invalid_argument);
    EXPECT_NE(refused.error().message.find("only read-only"), std::string::npos) << refused.error().message;
    EXPECT_TRUE(parse_volume_context(inline_view, true, kBackings));
    inline_view["csi.storage.k8s.io/ephemeral"] = "false";  // a PersistentVolume
    EXPECT_TRUE(parse_volume_context(inline_view, false, kBackings));
}

TEST(VolumeId, OnePathComponent) {
    EXPECT_TRUE(valid_volume_id("csi-4f1c0e"));
    EXPECT_TRUE(valid_volume_id("pv.models_1"));
    for (std::string_view bad :
         std::vector<std::string_view>{"", ".", "..", "a/b", "/", std::string_view("a\0b", 3)})
        EXPECT_FALSE(valid_volume_id(bad)) << bad;
    EXPECT_FALSE(valid_volume_id(std::string(256, 'a')));
}

}  // namespace
}  // namespace fastfs::csi
