// A loop-mounted filesystem made with a caller-chosen mkfs command, mounted on a caller-chosen directory:
// for what LoopFilesystem cannot make (XFS without reflink, a filesystem mounted inside another backing
// tree). Unmounts and removes its image and the directory it created when destroyed, even on failure.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fixtures.hpp"

namespace fastfs::test::copy_it {

class ImageFilesystem {
  public:
    // Runs `mkfs_command IMAGE` on a sparse image of `size_bytes` and mounts it (-o loop) on `mount_dir`,
    // creating that directory. Returns nullptr with the reason in `why` when that is not possible here.
    static std::unique_ptr<ImageFilesystem> create(const std::string& mkfs_command, uint64_t size_bytes,
                                                   const fs::path& mount_dir, std::string* why);
    ImageFilesystem(const ImageFilesystem&) = delete;
    ImageFilesystem& operator=(const ImageFilesystem&) = delete;
    ~ImageFilesystem();

    const fs::path& path() const { return mount_dir_; }

  private:
    ImageFilesystem() = default;
    fs::path image_dir_;  // private directory holding the image
    fs::path mount_dir_;
    bool mounted_ = false;
};

}  // namespace fastfs::test::copy_it
