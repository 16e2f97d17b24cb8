// `fastfs --help` and the man page list exactly the -o options the parser knows: one list (options.cpp's
// tables, read through mount_option_names()) and two texts checked against it.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fastfs/cli/help.hpp"
#include "fastfs/cli/options.hpp"

namespace fastfs::cli {
namespace {

// One name per option however a text spells it: "fsname=NAME" and "fsname=" are "fsname=", a prefix
// "x-*" is "x-", roff's "\-" is "-".
std::string canonical(std::string spelling) {
    for (size_t at = spelling.find("\\-"); at != std::string::npos; at = spelling.find("\\-", at))
        spelling.erase(at, 1);
    if (auto equals = spelling.find('='); equals != std::string::npos) spelling.resize(equals + 1);
    if (spelling.ends_with('*')) spelling.pop_back();
    return spelling;
}

std::set<std::string> parser_options() {
    std::set<std::string> names;
    for (const auto& name : mount_option_names())
        names.insert(canonical(name));
    return names;
}

// --help lists one option per line, indented by two spaces; its explanation's continuation lines by more.
std::set<std::string> help_options() {
    std::set<std::string> names;
    std::istringstream text(mount_options_help());
    for (std::string line; std::getline(text, line);) {
        if (line.size() < 3 || !line.starts_with("  ") || line[2] == ' ') continue;
        names.insert(canonical(line.substr(2, line.find(' ', 2) - 2)));
    }
    return names;
}

// Words of a roff request line: "\.BR a \", \" b" is {".BR", "a", ", ", "b"}.
std::vector<std::string> roff_words(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool quoted = false, in_word = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            in_word = true;
        } else if (c == ' ' && !quoted) {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(word);
    return words;
}

// The man page's "Mount options" section gives each option (or group of options) a tagged paragraph: the
// line after .TP is the tag, in bold. With .BR and .BI the bold words are every other one.
std::set<std::string> man_page_options() {
    std::ifstream page(FASTFS_MAN_PAGE);
    EXPECT_TRUE(page) << "cannot read " << FASTFS_MAN_PAGE;
    std::set<std::string> names;
    bool in_section = false, tag_next = false;
    for (std::string line; std::getline(page, line);) {
        if (line == ".SS Mount options") {
            in_section = true;
            continue;
        }
        if (!in_section) continue;
        if (line.starts_with(".SH") || line.starts_with(".SS")) break;
        if (line == ".TP") {
            tag_next = true;
            continue;
        }
        if (!tag_next) continue;
        tag_next = false;
        auto words = roff_words(line);
        EXPECT_FALSE(words.empty()) << "an empty tag in the man page's Mount options";
        if (words.empty()) continue;
        EXPECT_TRUE(words[0] == ".B" || words[0] == ".BR" || words[0] == ".BI")
            << "tag not in bold: " << line;
        size_t step = words[0] == ".B" ? 1 : 2;
        for (size_t i = 1; i < words.size(); i += step)
            names.insert(canonical(words[i]));
    }
    EXPECT_TRUE(in_section) << FASTFS_MAN_PAGE << " has no \".SS Mount options\" section";
    return names;
}

// "" when `documented` is the parser's list, else what it lacks and what it has in excess.
std::string differences(const std::set<std::string>& documented) {
    std::string missing, unknown;
    auto known = parser_options();
    for (const auto& name : known)
        if (!documented.contains(name)) missing += " " + name;
    for (const auto& name : documented)
        if (!known.contains(name)) unknown += " " + name;
    if (missing.empty() && unknown.empty()) return "";
    return "not listed:" + missing + "; listed but not options:" + unknown;
}

TEST(MountOptionsDocumentation, HelpListsExactlyTheParsersOptions) {
    EXPECT_EQ(differences(help_options()), "");
}

TEST(MountOptionsDocumentation, ManPageListsExactlyTheParsersOptions) {
    EXPECT_EQ(differences(man_page_options()), "");
}

TEST(MountOptionsDocumentation, EveryOwnOptionTheParserNamesIsAccepted) {
    for (const auto& name : mount_option_names()) {
        if (name.ends_with('*')) continue;  // a prefix, not an option
        MountOptions options;
        std::string option = name.ends_with('=') ? name + "1" : name;
        auto applied = apply_option_list(option, options);
        // A value of "1" is wrong for some options; what matters is that the name is known.
        if (!applied) {
            EXPECT_EQ(applied.error().find("unknown option"), std::string::npos) << applied.error();
        }
    }
}

}  // namespace
}  // namespace fastfs::cli
