#include "fastfs/cli/help.hpp"

#include <fuse_lowlevel.h>

#include <string_view>

#include <spdlog/fmt/fmt.h>

#include "fastfs/cli/options.hpp"

namespace fastfs::cli {

std::string version_text() {
    std::string_view libfuse = fuse_pkgversion();
    // Major.minor is what decides behaviour; the patch level only adds noise.
    if (auto first = libfuse.find('.'); first != std::string_view::npos) {
        if (auto second = libfuse.find('.', first + 1); second != std::string_view::npos)
            libfuse = libfuse.substr(0, second);
    }
    return "fastfs " FASTFS_VERSION " (libfuse " + std::string(libfuse) + ")";
}

std::string mount_options_help() {
    std::string text = R"(
Mount options (-o opt[,opt...], mount(8) style; -o may be repeated and placed anywhere; "\," is a comma):
  allow_other             let all users reach the mount; turns on default_permissions
  allow_root              let root reach the mount as well as the mounting user
  default_permissions     the kernel checks file modes before each access
  no_default_permissions  with allow_other: do not turn default_permissions on
  ro                      mount read-only
  rw                      mount read-write (the default)
  remount                 (mount -o remount,...) change ro/rw and nosuid, nodev, noexec, atime and
                          sync flags of a live mount; other options need a new mount
  fsname=NAME             source shown by findmnt (default: the canonical BACKING path)
  subtype=NAME            type shown as fuse.NAME (default: fastfs)
  entry_timeout=SECONDS   how long the kernel trusts a name lookup (default 60 where BACKING is
                          watched for outside changes, else 1)
  attr_timeout=SECONDS    how long the kernel trusts file attributes (default 60 watched, else 1)
  negative_timeout=SECONDS  how long the kernel trusts "no such file" (default 60 watched, else 0)
  watch_backing           watch BACKING for changes made outside the mount (the default where it can)
  no_watch_backing        do not watch BACKING for changes made outside the mount (then the
                          timeouts default to 1, 1 and 0; watching needs root)
  keep_cache              keep page cache across opens while size and mtime are unchanged (default)
  no_keep_cache           drop page cache on every open
  passthrough=on|off      the kernel reads and writes regular files on their backing files itself
                          (default on; needs root, Linux 6.9+ and no writeback_cache)
  io_uring                serve requests over FUSE's io_uring queues, or refuse to mount (Linux 6.14+;
                          the fuse module's enable_uring parameter must be Y). Default: use them
                          whenever enable_uring is Y, else /dev/fuse
  no_io_uring             serve requests by reads and writes on /dev/fuse
  writeback_cache         let the kernel cache writes and send them later (faster small writes without
                          passthrough, but the size and mtime of files others change are not seen)
  no_writeback_cache      send writes at once (default)
  max_threads=N           worker threads serving requests (default 0: automatic)
  fd_cache=N              backing descriptors kept open (default 0: from the open-file limit)
  splice                  move data with splice where it helps (default; requests are spliced in only
                          when passthrough is off)
  no_splice               never splice
  log_level=LEVEL         as --log-level
  log_file=PATH           where a background mount logs (default: the journal, else syslog, else
                          /var/log/fastfs.log; a user's: $XDG_STATE_HOME/fastfs.log)
)";
    for (auto name : kernel_option_names())
        text += fmt::format("  {:<24}kernel mount flag, passed through\n", name);
    for (const auto& name : dropped_option_names())
        text += fmt::format("  {:<24}accepted from mount(8), fstab and systemd; ignored\n", name);
    text += R"(Any other option is an error.

A BACKING directory named stats, clone, copy, docker-plugin or csi must be written as ./stats (the words
name the tools).

Exit status: 0 success, 1 failure (paths, permissions, kernel), 2 command-line error.)";
    return text;
}

}  // namespace fastfs::cli
