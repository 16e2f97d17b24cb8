// Placeholder until the copy engineer's copy::copy_file (include/fastfs/copy/file_copy.hpp) lands.
#include "fastfs/cli/copy_command.hpp"

#include "fastfs/cli/errors.hpp"

namespace fastfs::cli {
int run_copy(const std::string&, const std::string&) {
    return report(CliError{kExitFailure, "copy is not available in this build yet"});
}
}  // namespace fastfs::cli
