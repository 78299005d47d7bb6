// merit-train: trainers for the reference subnets' models, one sub-command each. A trainer is a
// source file in this directory that defines a MERIT_TRAINER; main.cpp lists whatever is linked.
//
// Every trainer writes a TorchScript archive (.pt) that merit_serving::Model loads, so a model
// trained here and one exported from PyTorch with torch.jit.save are interchangeable.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace merit::train {

// Process exit codes, as the other meritnet binaries use them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct Trainer {
  const char* name;     // the sub-command, e.g. "fashion-mnist"
  const char* summary;  // one line for --help
  // Adds the trainer's options to `command` and sets its callback; the callback stores its
  // exit code in `exitCode`.
  void (*setup)(CLI::App& command, int& exitCode);
};

// Every trainer linked into merit-train, in registration order.
std::vector<Trainer>& trainers();

struct TrainerRegistration {
  explicit TrainerRegistration(Trainer trainer) { trainers().push_back(trainer); }
};

}  // namespace merit::train

#define MERIT_TRAINER_CONCAT2(a, b) a##b
#define MERIT_TRAINER_CONCAT(a, b) MERIT_TRAINER_CONCAT2(a, b)
// MERIT_TRAINER("fashion-mnist", "Train the fashion_mnist subnet's CNN", &setupFunction);
#define MERIT_TRAINER(name, summary, setup)                                                         \
  static const ::merit::train::TrainerRegistration MERIT_TRAINER_CONCAT(kMeritTrainer_, __LINE__) { \
    ::merit::train::Trainer {                                                                       \
      name, summary, setup                                                                          \
    }                                                                                               \
  }
