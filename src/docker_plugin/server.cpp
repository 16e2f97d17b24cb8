#include "fastfs/docker_plugin/server.hpp"
#include "fastfs/docker_plugin/errors.hpp"

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <spdlog/spdlog.h>
#include <atomic>
#include <cstdlib>
#include <system_error>
#include <thread>

#include "fastfs/docker_plugin/protocol.hpp"
#include "fastfs/sys/unique_fd.hpp"

namespace fastfs::docker_plugin {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxRequestBytes = 1 << 20;  // a volume request is a few hundred bytes

std::optional<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path) return std::nullopt;
    path.copy(address.sun_path, path.size());
    if (path.front() == '@') address.sun_path[0] = '\0';  // systemd's spelling of the abstract namespace
    return address;
}

bool someone_listens(const fs::path& socket_path) {
    auto address = unix_address(socket_path.string());
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!address || !fd) return false;
    return ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0;
}

// A socket file left by a plugin that died is removed; a live plugin's socket is not taken over.
Reply<void> claim_socket_path(const fs::path& socket_path) {
    std::error_code error;
    fs::create_directories(socket_path.parent_path(), error);
    if (error) return std::unexpected(socket_path.parent_path().string() + ": " + error.message());
    struct stat st {};
    if (::lstat(socket_path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode))
        return std::unexpected(socket_path.string() + " exists and is not a socket; not replacing it");
    if (someone_listens(socket_path))
        return std::unexpected("another plugin is listening on " + socket_path.string());
    if (::unlink(socket_path.c_str()) != 0)
        return std::unexpected(socket_path.string() + ": " + errno_message(errno));
    return {};
}

// Binds with a umask that leaves the socket 0600 from its first moment, then says so explicitly.
Reply<void> bind_socket(httplib::Server& server, const fs::path& socket_path) {
    mode_t old_mask = ::umask(0177);
    bool bound = server.bind_to_port(socket_path.string(), 80);  // the port means nothing on AF_UNIX
    ::umask(old_mask);
    if (!bound) return std::unexpected("cannot listen on " + socket_path.string());
    if (::chmod(socket_path.c_str(), 0600) != 0)
        return std::unexpected(socket_path.string() + ": " + errno_message(errno));
    return {};
}

// sd_notify(READY=1) without libsystemd: one datagram to $NOTIFY_SOCKET, if systemd gave one.
void notify_systemd_ready() {
    const char* socket_name = std::getenv("NOTIFY_SOCKET");
    if (socket_name == nullptr) return;
    auto address = unix_address(socket_name);
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!address || !fd) return;
    constexpr std::string_view kReady = "READY=1";
    ::sendto(fd.get(), kReady.data(), kReady.size(), MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
}

void add_routes(httplib::Server& server, Driver& driver) {
    server.Post(R"(/([A-Za-z]+\.[A-Za-z]+))",
                [&driver](const httplib::Request& request, httplib::Response& response) {
                    auto answer = handle_call(driver, request.matches[1].str(), request.body);
                    response.status = answer.status;
                    response.set_content(answer.body, std::string(kContentType));
                });
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
            response.status = 500;
            response.set_content(R"({"Err":"internal error"})", std::string(kContentType));
        });
    server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
        spdlog::debug("{} {} -> {} {}", request.method, request.path, response.status, response.body);
    });
}

// Termination signals are blocked in every thread and taken by this one, which stops the server.
class SignalStopper {
  public:
    explicit SignalStopper(httplib::Server& server) {
        sigset_t set = termination_signals();
        ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
        thread_ = std::thread([this, &server, set] {
            int signal = 0;
            ::sigwait(&set, &signal);
            signalled_ = true;
            spdlog::info("signal {}: stopping (fastfs mounts stay for the containers that use them)", signal);
            server.stop();
        });
    }
    ~SignalStopper() {
        // Wakes the thread if the server stopped on its own (a failure), so that it can be joined.
        if (!signalled_) ::pthread_kill(thread_.native_handle(), SIGTERM);
        thread_.join();
    }
    bool signalled() const { return signalled_; }
    SignalStopper(const SignalStopper&) = delete;
    SignalStopper& operator=(const SignalStopper&) = delete;

  private:
    static sigset_t termination_signals() {
        sigset_t set;
        sigemptyset(&set);
        for (int signal : {SIGTERM, SIGINT, SIGHUP})
            sigaddset(&set, signal);
        return set;
    }
    std::atomic<bool> signalled_ = false;
    std::thread thread_;
};

}  // namespace

Reply<void> serve(const fs::path& socket_path, const std::function<Reply<Driver*>()>& start) {
    if (auto claimed = claim_socket_path(socket_path); !claimed) return claimed;
    ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the plugin
    httplib::Server server;
    server.set_address_family(AF_UNIX);
    server.set_payload_max_length(kMaxRequestBytes);
    SignalStopper stopper(server);  // before the server starts its worker threads, which inherit the mask
    if (auto bound = bind_socket(server, socket_path); !bound) return bound;
    // The socket is ours now: no other plugin on it can be serving. Requests wait in the backlog until the
    // driver is ready.
    auto driver = start();
    if (!driver) {
        ::unlink(socket_path.c_str());
        return std::unexpected(driver.error());
    }
    add_routes(server, **driver);
    spdlog::info("listening on {}", socket_path.string());
    notify_systemd_ready();
    bool clean = stopper.signalled() || server.listen_after_bind();
    ::unlink(socket_path.c_str());
    if (!clean) return std::unexpected("the server on " + socket_path.string() + " failed");
    return {};
}

}  // namespace fastfs::docker_plugin
