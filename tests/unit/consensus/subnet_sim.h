// A test-only model of the chain state one subnet's epoch reads and writes, so multi-epoch test
// vectors carry state between epochs exactly as subtensor does: set_weights (max-upscaled row,
// LastUpdate), UID replacement, and persisting the epoch's new permits and bonds. Every epoch is
// also run by the executable spec (merit_consensus_spec) and must give the same output, so each
// multi-epoch test vector is a differential test too.
//
// Thread-safety: single-threaded test helper.
#pragma once

#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "merit/consensus/epoch.h"
#include "merit/consensus/weights.h"

#include "spec_compare.h"

namespace merit::consensus::test {

class SubnetSim {
 public:
  // n neurons registered at `block` with the given raw stakes (LastUpdate = registration block,
  // no permits, no weights or bonds), as `append_neuron` leaves them.
  SubnetSim(const std::vector<uint64_t>& stakes, uint64_t block, uint16_t tempo) : m_block(block) {
    m_input.tempo = tempo;
    m_input.raoEmission = 1'000'000'000;
    m_input.hyperparameters.activityCutoff = activityCutoffBlocks(13'889, tempo);
    for (uint64_t s : stakes) {
      NeuronInput neuron;
      neuron.stake = s;
      neuron.lastUpdate = block;
      neuron.blockAtRegistration = block;
      m_input.neurons.push_back(neuron);
    }
  }

  Hyperparameters& hyperparameters() { return m_input.hyperparameters; }
  EpochInput& input() { return m_input; }
  NeuronInput& neuron(std::size_t uid) { return m_input.neurons[uid]; }
  uint64_t block() const { return m_block; }
  void nextBlock() { ++m_block; }
  void setBlock(uint64_t block) { m_block = block; }

  // set_weights at the current block, through the chain's checks (min allowed weights as given).
  void setWeights(uint16_t uid, const std::vector<uint16_t>& uids, const std::vector<uint16_t>& values,
                  uint16_t minAllowedWeights = 0) {
    SetWeightsRules rules;
    rules.callerUid = uid;
    rules.subnetN = m_input.neurons.size();
    rules.minAllowedWeights = minAllowedWeights;
    rules.callerHasPermit = m_input.neurons[uid].validatorPermit;
    auto row = checkAndUpscaleWeights(uids, values, rules);
    REQUIRE_MESSAGE(row.has_value(), (row ? "" : row.error().toString()));
    m_input.neurons[uid].weights = *row;
    m_input.neurons[uid].lastUpdate = m_block;
  }

  // replace_neuron: a new hotkey (no stake) takes `uid` at the current block.
  void replaceNeuron(uint16_t uid) {
    NeuronInput& neuron = m_input.neurons[uid];
    neuron.stake = 0;
    neuron.blockAtRegistration = m_block;
    neuron.lastUpdate = m_block;
    neuron.validatorPermit = false;
    neuron.weights.clear();
    neuron.bonds.clear();
    for (NeuronInput& other : m_input.neurons) {
      for (UidValue& w : other.weights) {
        if (w.uid == uid) w.value = 0;  // entry kept, weight zeroed
      }
    }
  }

  // Runs the epoch at the current block (checked against the spec) and persists permits and bonds.
  EpochOutput epoch() {
    m_input.currentBlock = m_block;
    auto out = runEpoch(m_input);
    REQUIRE_MESSAGE(out.has_value(), (out ? "" : out.error().toString()));
    checkAgainstSpec(m_input, out);
    for (std::size_t i = 0; i < m_input.neurons.size(); ++i) {
      m_input.neurons[i].validatorPermit = out->validatorPermit[i];
      m_input.neurons[i].bonds = out->bonds[i];
    }
    return *out;
  }

  // Stored bond of i on j (0 when absent), as get_bonds returns it.
  uint16_t bond(std::size_t i, uint16_t j) const {
    for (const UidValue& b : m_input.neurons[i].bonds) {
      if (b.uid == j) return b.value;
    }
    return 0;
  }

 private:
  EpochInput m_input;
  uint64_t m_block;
};

}  // namespace merit::consensus::test
