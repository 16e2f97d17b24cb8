#include "fastfs/docker_plugin/volume_options.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace fastfs::docker_plugin {
namespace {

TEST(VolumeOptions, NoOptionsMeansADataRootVolumeWithDefaults) {
    auto options = parse_volume_options({});
    ASSERT_TRUE(options) << options.error();
    EXPECT_EQ(*options, VolumeOptions{});
}

TEST(VolumeOptions, BackingMustBeAbsolute) {
    auto options = parse_volume_options({{"backing", "/srv/models"}});
    ASSERT_TRUE(options) << options.error();
    EXPECT_EQ(options->backing, "/srv/models");
    auto relative = parse_volume_options({{"backing", "srv/models"}});
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error(), "backing='srv/models' is not an absolute path");
    EXPECT_FALSE(parse_volume_options({{"backing", ""}}));
}

TEST(VolumeOptions, ReadOnlyIsAFlagOfTheVolumeNotOfTheSharedMount) {
    for (const char* value : {"", "true"}) {
        auto options = parse_volume_options({{"ro", value}});
        ASSERT_TRUE(options) << options.error();
        EXPECT_EQ(options->bind_flags, static_cast<unsigned long>(MS_RDONLY)) << "ro=" << value;
        EXPECT_TRUE(options->mount_options.empty());
    }
    auto off = parse_volume_options({{"ro", "false"}});
    ASSERT_TRUE(off);
    EXPECT_EQ(off->bind_flags, 0UL);
}

TEST(VolumeOptions, RawListIsSplitAndClassified) {
    auto options = parse_volume_options({{"o", "ro,noexec,entry_timeout=2,no_watch_backing"}});
    ASSERT_TRUE(options) << options.error();
    EXPECT_EQ(options->bind_flags, static_cast<unsigned long>(MS_RDONLY | MS_NOEXEC));
    EXPECT_EQ(options->mount_options, (std::vector<std::string>{"entry_timeout=2", "no_watch_backing"}));
}

TEST(VolumeOptions, LaterAtimeModeWins) {
    auto options = parse_volume_options({{"o", "noatime,relatime"}});
    ASSERT_TRUE(options);
    EXPECT_EQ(options->bind_flags, static_cast<unsigned long>(MS_RELATIME));
}

TEST(VolumeOptions, FastfsValuesPassThrough) {
    auto options = parse_volume_options({{"attr_timeout", "5"}, {"writeback_cache", "true"}});
    ASSERT_TRUE(options) << options.error();
    EXPECT_EQ(options->mount_options, (std::vector<std::string>{"attr_timeout=5", "writeback_cache"}));
}

TEST(VolumeOptions, FastfsRefusalsComeInFastfsWords) {
    auto unknown = parse_volume_options({{"foo", ""}});
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), "unknown option 'foo'");
    auto bad_value = parse_volume_options({{"entry_timeout", "soon"}});
    ASSERT_FALSE(bad_value);
    EXPECT_NE(bad_value.error().find("entry_timeout"), std::string::npos) << bad_value.error();
    auto flag_with_value = parse_volume_options({{"ro", "1"}});
    ASSERT_FALSE(flag_with_value);
    EXPECT_EQ(flag_with_value.error(), "option 'ro' takes no value");
}

TEST(VolumeOptions, OptionsThatWouldBreakThePluginsPromisesAreRefused) {
    for (const auto& [key, value] :
         OptionMap{{"fsname", "x"}, {"subtype", "x"}, {"allow_root", ""}, {"no_default_permissions", ""}}) {
        auto options = parse_volume_options({{key, value}});
        ASSERT_FALSE(options) << key;
        EXPECT_TRUE(options.error().starts_with("option '" + key + "' is not accepted")) << options.error();
    }
    EXPECT_FALSE(parse_volume_options({{"o", "allow_root"}}));
}

TEST(VolumeOptions, KeysCannotSmuggleSeparators) {
    EXPECT_FALSE(parse_volume_options({{"ro,allow_root", ""}}));
    EXPECT_FALSE(parse_volume_options({{"a=b", ""}}));
    EXPECT_FALSE(parse_volume_options({{"", "x"}}));
}

TEST(VolumeOptions, JoinEscapesCommasSoTheListSplitsBack) {
    EXPECT_EQ(join_option_list({"a", "fsname=x,y", "b"}), "a,fsname=x\\,y,b");
    EXPECT_EQ(join_option_list({}), "");
}

}  // namespace
}  // namespace fastfs::docker_plugin
