// Reading secrets for the CLI and daemons: passwords and mnemonics from a file, the environment,
// or a no-echo terminal prompt.
//
// Thread-safety: call from one thread at a time (it may use the terminal).
#pragma once

#include <string>

#include "merit/crypto/secret.h"
#include "merit/util/result.h"

namespace merit::crypto {

struct PasswordSource {
  std::string passwordFile;  // --password-file; empty if not given
  // Where else to look, and the option to name in errors (another password, such as a btcli
  // wallet's, has its own).
  std::string envVar = "MERIT_PASSWORD";
  std::string fileOption = "--password-file";
};

// The password, from (in order) --password-file (its first line), $envVar, or a no-echo
// prompt on the terminal; `confirm` asks twice. With none available (no terminal, e.g. in a
// script) the error says which options exist.
Result<SecretBytes> readPassword(const PasswordSource& source, const std::string& prompt, bool confirm);

// A mnemonic from --mnemonic-file (its first line), or else a no-echo prompt when standard input
// is a terminal, or else one line of standard input. Never from the command line: argv is
// visible to every user of the machine.
Result<SecretBytes> readMnemonic(const std::string& file);

}  // namespace merit::crypto
