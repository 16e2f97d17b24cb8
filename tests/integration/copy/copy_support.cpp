#include "copy_support.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <regex>
#include <sstream>

namespace fastfs::test::copy_it {

std::string fs_type_name(const ::testing::TestParamInfo<FsType>& param_info) {
    return to_string(param_info.param);
}

CaseDir make_case(const FastfsMount& mount, const fs::path& backing, const std::string& name) {
    static std::atomic<int> counter{0};
    std::string unique = "copy-" + name + "-" + std::to_string(counter++);
    CaseDir dir{mount.path() / unique, backing / unique, mount.path()};
    fs::create_directory(dir.via_mount);
    return dir;
}

CaseDir make_case(MountedBacking& env, const std::string& name) {
    return make_case(*env.mount, env.backing->path(), name);
}

std::string pattern_bytes(size_t size, uint64_t seed) {
    std::mt19937_64 random(seed * 0x9E3779B97F4A7C15ull + 1);
    std::string out(size, '\0');
    for (size_t i = 0; i < size; i += 8) {
        uint64_t word = random();
        for (size_t b = 0; b < 8 && i + b < size; ++b)
            out[i + b] = char(word >> (8 * b));
    }
    return out;
}

void write_at(const fs::path& path, uint64_t offset, std::string_view data) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, off_t(offset + done));
        if (n <= 0) break;
        done += size_t(n);
    }
    ::close(fd);
    ASSERT_EQ(done, data.size()) << "short write to " << path;
}

std::string read_at(const fs::path& path, uint64_t offset, size_t length) {
    std::string out(length, '\0');
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    size_t done = 0;
    while (done < length) {
        ssize_t n = ::pread(fd, out.data() + done, length - done, off_t(offset + done));
        if (n <= 0) break;
        done += size_t(n);
    }
    ::close(fd);
    out.resize(done);
    return out;
}

uint64_t apparent_size(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return uint64_t(st.st_size);
}

::testing::AssertionResult same_bytes(const std::string& actual, const std::string& expected) {
    if (actual == expected) return ::testing::AssertionSuccess();
    size_t common = std::min(actual.size(), expected.size());
    size_t first = 0;
    while (first < common && actual[first] == expected[first])
        ++first;
    return ::testing::AssertionFailure() << "sizes " << actual.size() << " and " << expected.size()
                                         << ", first difference at offset " << first;
}

bool all_zero(const std::string& bytes) {
    return bytes.find_first_not_of('\0') == std::string::npos;
}

std::string quote(const std::string& text) {
    std::string out = "'";
    for (char c : text)
        out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string sha256_of(const fs::path& path) {
    auto r = run("sha256sum " + quote(path.string()));
    if (r.exit_code != 0) return "sha256sum failed: " + r.output;
    return r.output.substr(0, 64);
}

CommandResult fastfs_tool(const std::string& args) {
    return run(quote(fastfs_binary()) + " " + args);
}

std::optional<uint64_t> stats_counter(const fs::path& mount_root, std::string_view name) {
    auto r = fastfs_tool("stats " + quote(mount_root.string()) + " --json");
    if (r.exit_code != 0) return std::nullopt;
    std::regex field("\"" + std::string(name) + "\"\\s*:\\s*([0-9]+)");
    std::smatch match;
    if (!std::regex_search(r.output, match, field)) return std::nullopt;
    return std::stoull(match[1].str());
}

PythonCopy python_copy(const fs::path& src, const fs::path& dst, const CopyRange& range) {
    std::string command = "python3 " + quote(FASTFS_COPY_CFR_SCRIPT) + " " + quote(src.string()) + " " +
                          quote(dst.string()) + " --off-in " + std::to_string(range.off_in) + " --off-out " +
                          std::to_string(range.off_out) + " --len " + std::to_string(range.length) +
                          (range.loop ? " --loop" : "");
    auto r = run(command);
    PythonCopy result;
    result.output = r.output;
    std::istringstream words(r.output);
    std::string first;
    words >> first;
    if (first == "copied") {
        std::string calls_word;
        words >> result.copied >> calls_word >> result.calls;
        result.ok = r.exit_code == 0;
    } else if (first == "error") {
        std::string after;
        words >> result.error_name >> after >> result.copied;
    }
    return result;
}

bool copy_requests_are_64_bit() {
    utsname host{};
    if (::uname(&host) != 0) return false;
    unsigned major = 0, minor = 0;
    if (std::sscanf(host.release, "%u.%u", &major, &minor) != 2) return false;
    bool kernel_sends_64 = major > 6 || (major == 6 && minor >= 18);
    return kernel_sends_64 && FASTFS_LIBFUSE_ANSWERS_COPY_FILE_RANGE_64;
}

}  // namespace fastfs::test::copy_it
