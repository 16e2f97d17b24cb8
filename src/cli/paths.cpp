#include "fastfs/cli/paths.hpp"

#include <fcntl.h>

#include <cerrno>
#include <filesystem>

namespace fastfs::cli {
namespace fs = std::filesystem;

Checked<OpenedSource> open_source(const std::string& source) {
    OpenedSource opened;
    opened.fd.reset(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened.fd) return runtime_error(source + ": " + errno_text(errno));
    if (::fstat(opened.fd.get(), &opened.st) != 0) return runtime_error(source + ": " + errno_text(errno));
    if (!S_ISREG(opened.st.st_mode)) return runtime_error(source + ": not a regular file");
    return opened;
}

Checked<Destination> resolve_destination(const std::string& source, const struct stat& source_st,
                                         const std::string& destination) {
    fs::path target = destination;
    struct stat st {};
    bool exists = ::stat(destination.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        target /= fs::path(source).filename();
        exists = ::stat(target.c_str(), &st) == 0;
    }
    if (exists && st.st_dev == source_st.st_dev && st.st_ino == source_st.st_ino)
        return usage_error(source + " and " + target.string() + " are the same file");
    if (exists && !S_ISREG(st.st_mode))
        return runtime_error(target.string() + ": exists and is not a regular file");
    if (target.filename().empty()) return runtime_error(destination + ": " + errno_text(EISDIR));

    Destination dst;
    dst.display = target.string();
    dst.name = target.filename().string();
    fs::path parent = target.parent_path();
    if (parent.empty()) parent = ".";
    dst.dir.reset(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dst.dir) return runtime_error(parent.string() + ": " + errno_text(errno));
    return dst;
}

}  // namespace fastfs::cli
