// `schakel consent …` takes the student key and birth date from stdin or a file, never from argv,
// where ps and the shell history would show them to other users of the machine.
#include "cli/privacy_commands.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using schakel::cli::consent_subject;
using schakel::cli::read_consent_subject;

TEST(consent_subject, reads_key_and_birth_date_lines) {
  std::istringstream in("# whom\nstudent_key=S 1=a\r\n\nbirth_date=2012-05-01\n");
  consent_subject s;
  EXPECT_EQ(read_consent_subject(in, "subject.txt", true, s), "");
  EXPECT_EQ(s.student_key, "S 1=a");
  EXPECT_EQ(s.birth_date, "2012-05-01");
}

TEST(consent_subject, errors_name_file_and_line_never_the_line) {
  consent_subject s;
  std::istringstream bare("S-secret-1\n");
  EXPECT_EQ(read_consent_subject(bare, "subject.txt", true, s),
            "subject.txt:1: expected student_key=… or birth_date=… (the line is not repeated here)");
  std::istringstream no_birth("student_key=S-1\n");
  EXPECT_EQ(read_consent_subject(no_birth, "stdin", true, s), "stdin: birth_date=… is missing");
  std::istringstream twice("student_key=S-1\nstudent_key=S-2\n");
  EXPECT_EQ(read_consent_subject(twice, "stdin", false, s), "stdin:2: student_key: given twice");
  std::istringstream list_with_birth("student_key=S-1\nbirth_date=2012-05-01\n");
  EXPECT_EQ(read_consent_subject(list_with_birth, "stdin", false, s), "stdin:2: birth_date: not used by consent list");
}

TEST(consent_cli, refuses_a_student_key_or_birth_date_on_the_command_line) {
  for (const char* option : {"--student", "--birth-date"}) {
    CLI::App app;
    schakel::cli::privacy_commands commands(app);
    std::vector<std::string> args{"consent",  "record",    "--config",   "/nonexistent/schakel.yaml",
                                  "--school", "12AB",      "--given-by", "parent",
                                  option,     "S-secret-1"};
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last to first
    app.parse(args);
    std::ostringstream err;
    auto* old = std::cerr.rdbuf(err.rdbuf());
    const int code = commands.run();  // refused before the configuration is even read
    std::cerr.rdbuf(old);
    EXPECT_EQ(code, 1);
    EXPECT_NE(err.str().find(std::string(option) + ": not taken on the command line"), std::string::npos) << err.str();
    EXPECT_EQ(err.str().find("S-secret-1"), std::string::npos) << err.str();
  }
}

}  // namespace
