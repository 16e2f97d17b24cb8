// The -o language as mount(8), fstab and systemd use it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fastfs/cli/options.hpp"

namespace fastfs::cli {
namespace {

std::expected<MountOptions, std::string> parse(std::vector<std::string> lists) {
    return parse_mount_options(lists);
}

TEST(MountOptionsTest, DefaultsWhenNoOptionGiven) {
    auto parsed = parse({});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->config.subtype, "fastfs");
    EXPECT_FALSE(parsed->config.allow_other);
    EXPECT_FALSE(parsed->config.default_permissions);
    EXPECT_FALSE(parsed->config.read_only);
    EXPECT_TRUE(parsed->config.kernel_options.empty());
    EXPECT_TRUE(parsed->log_level.empty());
    // Timeouts left to the mount: long where the backing is watched, short elsewhere.
    EXPECT_FALSE(parsed->config.entry_timeout);
    EXPECT_FALSE(parsed->config.attr_timeout);
    EXPECT_FALSE(parsed->config.negative_timeout);
    EXPECT_TRUE(parsed->config.watch_backing);
}

TEST(MountOptionsTest, WatchingTheBackingCanBeTurnedOff) {
    auto parsed = parse({"no_watch_backing"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_FALSE(parsed->config.watch_backing);
}

TEST(MountOptionsTest, UnknownOptionIsNamedInTheError) {
    auto parsed = parse({"ro,foo"});
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error(), "unknown option 'foo'");
}

TEST(MountOptionsTest, MountAndSystemdOptionsAreDropped) {
    auto parsed =
        parse({"defaults,noauto,nofail,_netdev,x-systemd.requires-mounts-for=/x,comment=foo,rw,noatime",
               "auto,user,nouser,users,owner,group,x-gvfs-show"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_FALSE(parsed->config.read_only);
    EXPECT_EQ(parsed->config.kernel_options, std::vector<std::string>{"noatime"});
}

TEST(MountOptionsTest, KernelOptionsPassThroughInOrder) {
    auto parsed = parse({"nosuid,nodev", "noexec,relatime,dirsync,lazytime"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->config.kernel_options,
              (std::vector<std::string>{"nosuid", "nodev", "noexec", "relatime", "dirsync", "lazytime"}));
}

TEST(MountOptionsTest, AllowOtherTurnsDefaultPermissionsOn) {
    auto parsed = parse({"allow_other"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_TRUE(parsed->config.allow_other);
    EXPECT_TRUE(parsed->config.default_permissions);
}

TEST(MountOptionsTest, NoDefaultPermissionsIsTheExplicitOptOut) {
    for (auto lists : {std::vector<std::string>{"allow_other,no_default_permissions"},
                       std::vector<std::string>{"no_default_permissions", "allow_other"}}) {
        auto parsed = parse(lists);
        ASSERT_TRUE(parsed) << parsed.error();
        EXPECT_TRUE(parsed->config.allow_other);
        EXPECT_FALSE(parsed->config.default_permissions) << lists.front();
    }
}

TEST(MountOptionsTest, LaterOptionWins) {
    auto parsed = parse({"ro,default_permissions", "rw,no_default_permissions,no_keep_cache,keep_cache"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_FALSE(parsed->config.read_only);
    EXPECT_FALSE(parsed->config.default_permissions);
    EXPECT_TRUE(parsed->config.keep_cache);
}

TEST(MountOptionsTest, AllowOtherAndAllowRootExcludeEachOther) {
    auto parsed = parse({"allow_other", "allow_root"});
    ASSERT_FALSE(parsed);
    EXPECT_NE(parsed.error().find("allow_root"), std::string::npos);
}

TEST(MountOptionsTest, ValuedOptionsAreParsed) {
    auto parsed =
        parse({"fsname=/srv/data,subtype=fastfs2,entry_timeout=2.5,attr_timeout=0,negative_timeout=10",
               "max_threads=8,fd_cache=4096,log_level=debug,writeback_cache,no_splice"});
    ASSERT_TRUE(parsed) << parsed.error();
    const auto& c = parsed->config;
    EXPECT_EQ(c.fsname, "/srv/data");
    EXPECT_EQ(c.subtype, "fastfs2");
    EXPECT_EQ(c.entry_timeout, 2.5);
    EXPECT_EQ(c.attr_timeout, 0.0);
    EXPECT_EQ(c.negative_timeout, 10.0);
    EXPECT_EQ(c.max_threads, 8u);
    EXPECT_EQ(c.fd_cache_size, 4096u);
    EXPECT_EQ(parsed->log_level, "debug");
    EXPECT_TRUE(c.writeback_cache);
    EXPECT_FALSE(c.splice);
}

TEST(MountOptionsTest, BadValuesAreRejected) {
    for (const char* bad :
         {"entry_timeout=-1", "attr_timeout=abc", "negative_timeout=1s", "entry_timeout=inf",
          "max_threads=-2", "max_threads=4x", "fd_cache=99999999999999999999999", "log_level=loud",
          "subtype=a/b", "fsname=", "fsname", "allow_other=1", "ro=yes"}) {
        auto parsed = parse({bad});
        EXPECT_FALSE(parsed) << bad;
        if (!parsed) {
            EXPECT_EQ(parsed.error().find('\n'), std::string::npos) << bad;
        }
    }
}

TEST(MountOptionsTest, EscapedCommaStaysInsideAValue) {
    auto parsed = parse({"fsname=/data/a\\,b,ro"});
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->config.fsname, "/data/a,b");
    EXPECT_TRUE(parsed->config.read_only);
}

TEST(MountOptionsTest, EmptyItemsAreIgnored) {
    EXPECT_EQ(split_option_list(",ro,,nosuid,"), (std::vector<std::string>{"ro", "nosuid"}));
    EXPECT_TRUE(parse({"", ","}));
}

TEST(MountOptionsTest, NodevIsMeaningfulNotDropped) {
    auto parsed = parse({"nodev"});
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->config.kernel_options, std::vector<std::string>{"nodev"});
}

TEST(MountOptionsTest, PrefixesDoNotSwallowRealOptions) {
    // "x-" and "comment=" are prefixes; an option merely starting with "x" or "comment" is not dropped.
    EXPECT_FALSE(parse({"xattr"}));
    EXPECT_FALSE(parse({"comment"}));
}

}  // namespace
}  // namespace fastfs::cli
