// The command line: CLI11 recognizes the words, the commands do the work. Every failure is one line
// starting "fastfs: ", exit 2 for a wrong command line and 1 for a refusal by the system.
#include "fastfs/cli/cli.hpp"

#include <CLI/CLI.hpp>

#include <string>

#include "fastfs/cli/clone_command.hpp"
#include "fastfs/cli/copy_command.hpp"
#include "fastfs/cli/docker_plugin_command.hpp"
#include "fastfs/cli/errors.hpp"
#include "fastfs/cli/help.hpp"
#include "fastfs/cli/mount_command.hpp"
#include "fastfs/cli/stats_command.hpp"
#include "fastfs/cli/tree_command.hpp"

namespace fastfs::cli {
namespace {

struct ToolArguments {
    std::string first;   // MOUNTPOINT for stats, SRC for clone/copy
    std::string second;  // DST
    bool json = false;
    bool recursive = false;
    std::string reflink = "auto";
};

void add_mount_arguments(CLI::App& app, MountRequest& request) {
    // One value per -o so that positionals may follow it; repeated -o accumulate in order.
    app.add_option("-o", request.option_lists, "mount options, comma-separated (listed below)")
        ->type_name("OPTS")
        ->allow_extra_args(false);
    app.add_flag("-f,--foreground", request.foreground, "stay in the foreground instead of daemonizing");
    app.add_flag("-d,--debug", request.debug, "print every FUSE request (implies -f)");
    app.add_option("--log-level", request.log_level, "trace, debug, info, warn, error or off (default info)")
        ->type_name("LEVEL");
    app.add_option("BACKING", request.backing, "directory whose files the mount shows");
    app.add_option("MOUNTPOINT", request.mountpoint, "directory to mount on (outside BACKING)");
}

CLI::App* add_tool(CLI::App& app, const char* name, const char* description) {
    auto* tool = app.add_subcommand(name, description);
    tool->fallthrough(false);
    return tool;
}

void add_tools(CLI::App& app, ToolArguments& tool) {
    auto* stats = add_tool(app, "stats", "print the counters of a fastfs mount");
    stats->add_option("MOUNTPOINT", tool.first, "a directory inside the fastfs mount")->required();
    stats->add_flag("--json", tool.json, "print one JSON object instead of name: value lines");

    auto* status = add_tool(app, "status", "say how a fastfs mount runs: backing, versions, features, log");
    status->add_option("MOUNTPOINT", tool.first, "a directory inside the fastfs mount")->required();
    status->add_flag("--json", tool.json, "print one JSON object instead of name: value lines");

    auto* clone =
        add_tool(app, "clone", "make DST share all of SRC's blocks (reflink) or fail; never copies");
    clone->add_option("SRC", tool.first, "file (or directory, with -r) to clone")->required();
    clone->add_option("DST", tool.second, "new file, or directory to clone into (with -r: a new directory)")
        ->required();
    clone->add_flag(
        "-r,--recursive", tool.recursive,
        "clone the directory tree SRC as the new directory DST, every file a reflink, all or nothing");

    auto* copy =
        add_tool(app, "copy", "copy SRC to DST by the fastest path: reflink, else sparse extent copy");
    copy->add_option("SRC", tool.first, "file (or directory, with -r) to copy")->required();
    copy->add_option("DST", tool.second, "new file, or directory to copy into (with -r: a new directory)")
        ->required();
    copy->add_flag("-r,--recursive", tool.recursive,
                   "copy the directory tree SRC as the new directory DST (like cp -a), all or nothing");
    copy->add_option("--reflink", tool.reflink,
                     "auto (default), never, or always (= fastfs clone: share blocks or fail)")
        ->type_name("WHEN");

    // Everything after the word, --help included, belongs to the plugin program.
    auto* plugin =
        add_tool(app, "docker-plugin", "run the Docker volume plugin (fastfs-docker-plugin --help)");
    plugin->prefix_command();
    plugin->set_help_flag();
    auto* csi = add_tool(app, "csi", "run the Kubernetes CSI node driver (fastfs-csi --help)");
    csi->prefix_command();
    csi->set_help_flag();
}

copy::TreeMode tree_mode(copy::ReflinkMode reflink) {
    switch (reflink) {
        case copy::ReflinkMode::kAlways:
            return copy::TreeMode::kClone;
        case copy::ReflinkMode::kNever:
            return copy::TreeMode::kNoReflink;
        case copy::ReflinkMode::kAuto:
            break;
    }
    return copy::TreeMode::kAuto;
}

int dispatch(const CLI::App& app, const MountRequest& mount, const ToolArguments& tool) {
    if (app.got_subcommand("docker-plugin"))
        return run_docker_plugin(app.get_subcommand("docker-plugin")->remaining());
    if (app.got_subcommand("csi")) return run_csi_driver(app.get_subcommand("csi")->remaining());
    if (app.got_subcommand("stats")) return run_stats(tool.first, tool.json);
    if (app.got_subcommand("status")) return run_status(tool.first, tool.json);
    if (app.got_subcommand("clone")) {
        if (tool.recursive) return run_tree(copy::TreeMode::kClone, tool.first, tool.second);
        return run_clone(tool.first, tool.second);
    }
    if (app.got_subcommand("copy")) {
        auto reflink = parse_reflink_mode(tool.reflink);
        if (!reflink) return report(reflink.error());
        if (tool.recursive) return run_tree(tree_mode(*reflink), tool.first, tool.second);
        // FICLONE cannot pass through FUSE; clone knows how to ask a fastfs daemon instead.
        if (*reflink == copy::ReflinkMode::kAlways) return run_clone(tool.first, tool.second);
        return run_copy(tool.first, tool.second, *reflink);
    }
    return run_mount(mount);
}

}  // namespace

int run(int argc, char** argv) {
    CLI::App app{"fastfs: a FUSE passthrough filesystem whose copies become reflinks or sparse copies",
                 "fastfs"};
    app.set_version_flag("-V,--version", version_text());
    app.require_subcommand(0, 1);
    MountRequest mount;
    ToolArguments tool;
    add_mount_arguments(app, mount);
    add_tools(app, tool);
    app.footer(mount_options_help());  // after the tools, which would otherwise inherit it
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& done) {  // --help, --version
        return app.exit(done);
    } catch (const CLI::ParseError& error) {
        return report(CliError{kExitUsage, error.what()});
    }
    return dispatch(app, mount, tool);
}

}  // namespace fastfs::cli
