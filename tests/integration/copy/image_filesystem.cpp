#include "image_filesystem.hpp"

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "copy_support.hpp"

namespace fastfs::test::copy_it {

std::unique_ptr<ImageFilesystem> ImageFilesystem::create(const std::string& mkfs_command, uint64_t size_bytes,
                                                         const fs::path& mount_dir, std::string* why) {
    std::unique_ptr<ImageFilesystem> image(new ImageFilesystem);
    std::string pattern = "/var/tmp/fastfs-copyint-img-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        *why = "mkdtemp failed";
        return nullptr;
    }
    image->image_dir_ = pattern;
    std::error_code ec;
    if (!fs::create_directory(mount_dir, ec) || ec) {
        *why = "cannot create " + mount_dir.string() + ": " + ec.message();
        return nullptr;
    }
    image->mount_dir_ = mount_dir;
    std::string file = quote((image->image_dir_ / "fs.img").string());
    auto r = run("truncate -s " + std::to_string(size_bytes) + " " + file + " && " + mkfs_command + " " +
                 file + " && mount -o loop " + file + " " + quote(mount_dir.string()));
    if (r.exit_code != 0) {
        *why = "cannot make/mount the image (" + mkfs_command + "): " + r.output;
        return nullptr;
    }
    image->mounted_ = true;
    return image;
}

ImageFilesystem::~ImageFilesystem() {
    // "mount -o loop" sets autoclear: the loop device goes away with the last reference to the mount.
    if (mounted_ && ::umount2(mount_dir_.c_str(), 0) != 0) ::umount2(mount_dir_.c_str(), MNT_DETACH);
    if (!mount_dir_.empty() && !is_mounted(mount_dir_)) ::rmdir(mount_dir_.c_str());
    std::error_code ec;
    if (!image_dir_.empty()) fs::remove_all(image_dir_, ec);
}

}  // namespace fastfs::test::copy_it
