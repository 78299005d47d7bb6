#include "merit/crypto/prompt.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <termios.h>
#include <unistd.h>

#include "merit/util/file.h"

namespace merit::crypto {

namespace {

constexpr std::size_t kMaxSecretFile = 4096;

// Strips one trailing "\n" or "\r\n".
void chomp(std::string& s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
}

// Reads a line from the controlling terminal with echo off. Returns false if there is none.
bool promptNoEcho(const std::string& prompt, std::string& out) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) return false;
  int fd = ::fileno(tty);
  termios old{};
  if (::tcgetattr(fd, &old) != 0) {
    std::fclose(tty);
    return false;
  }
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  // Echo off before the prompt shows: anything typed in answer to it is then never echoed, and
  // never discarded by the flush (which drops only what was typed ahead of the prompt).
  ::tcsetattr(fd, TCSAFLUSH, &quiet);
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  char buf[1024];
  bool ok = std::fgets(buf, sizeof buf, tty) != nullptr;
  ::tcsetattr(fd, TCSAFLUSH, &old);
  std::fclose(tty);
  if (ok) {
    out = buf;
    chomp(out);
  }
  secureZero(buf, sizeof buf);
  return ok;
}

Result<SecretBytes> firstLineOf(const std::string& path, const char* what) {
  auto content = readFile(path, kMaxSecretFile);
  if (!content) return fail(content.error().withContext(std::string("cannot read ") + what + " file"));
  auto nl = content->find('\n');
  std::string line = content->substr(0, nl);
  secureZero(content->data(), content->size());
  chomp(line);
  return SecretBytes::takeString(line);
}

}  // namespace

Result<SecretBytes> readPassword(const PasswordSource& source, const std::string& prompt, bool confirm) {
  if (!source.passwordFile.empty()) {
    MERIT_ASSIGN_OR_RETURN(auto pw, firstLineOf(source.passwordFile, "password"));
    if (pw.empty())
      return fail(ErrorCode::kInvalidArgument, "password file " + source.passwordFile + " is empty");
    return pw;
  }
  if (const char* env = std::getenv(source.envVar.c_str()); env != nullptr) {
    if (env[0] == '\0') return fail(ErrorCode::kInvalidArgument, source.envVar + " is set but empty");
    return SecretBytes(std::string_view(env));
  }
  std::string first;
  if (!promptNoEcho(prompt, first)) {
    return fail(ErrorCode::kInvalidArgument, "a password is needed and there is no terminal to ask on: use " +
                                                 source.fileOption + " FILE or set " + source.envVar);
  }
  auto pw = SecretBytes::takeString(first);
  if (pw.empty()) return fail(ErrorCode::kInvalidArgument, "the password must not be empty");
  if (confirm) {
    std::string again;
    if (!promptNoEcho("Repeat the password: ", again))
      return fail(ErrorCode::kInvalidArgument, "no confirmation");
    auto second = SecretBytes::takeString(again);
    if (second.revealText() != pw.revealText()) {
      return fail(ErrorCode::kInvalidArgument, "the two passwords differ");
    }
  }
  return pw;
}

Result<SecretBytes> readMnemonic(const std::string& file) {
  if (!file.empty()) return firstLineOf(file, "mnemonic");
  std::string line;
  if (::isatty(STDIN_FILENO)) {
    if (!promptNoEcho("Enter the mnemonic (words separated by spaces): ", line)) {
      return fail(ErrorCode::kInvalidArgument, "no mnemonic given");
    }
  } else if (!std::getline(std::cin, line)) {
    return fail(ErrorCode::kInvalidArgument, "no mnemonic given: use --mnemonic-file FILE or standard input");
  }
  chomp(line);
  return SecretBytes::takeString(line);
}

}  // namespace merit::crypto
