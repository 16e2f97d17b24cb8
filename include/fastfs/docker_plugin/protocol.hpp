// Docker's volume plugin protocol (HTTP POST of JSON, answers in JSON): request bodies to Driver calls
// and results to answer bodies. Pure, so every answer's shape is unit-tested without a socket.
#pragma once

#include <string>
#include <string_view>

#include "fastfs/docker_plugin/driver.hpp"

namespace fastfs::docker_plugin {

inline constexpr std::string_view kContentType = "application/vnd.docker.plugins.v1.2+json";

struct Answer {
    int status = 200;
    std::string body;
};

// Answers one call: `method` is the request path without the leading '/', e.g. "VolumeDriver.Mount".
// Errors, including malformed JSON and unknown methods, come back as {"Err": "..."}; never throws.
Answer handle_call(Driver& driver, std::string_view method, std::string_view body);

}  // namespace fastfs::docker_plugin
