# merit_chain: the dev chain node's state, runtime, blocks, node, RPC server and block feed.
#   merit_chain -> merit_consensus, merit_tx, merit_net (block feed publisher), merit_crypto, merit_util,
#                  merit_config (its YAML config), RocksDB, libzmq
find_package(RocksDB CONFIG REQUIRED)  # librocksdb-dev
find_package(Threads REQUIRED)


add_library(merit_chain STATIC
  src/chain/block.cpp
  src/chain/config.cpp
  src/chain/epoch_history.cpp
  src/chain/feed.cpp
  src/chain/http_server.cpp
  src/chain/node.cpp
  src/chain/rpc_server.cpp
  src/chain/runtime.cpp
  src/chain/calls_balances.cpp
  src/chain/calls_registration.cpp
  src/chain/calls_root.cpp
  src/chain/calls_serving.cpp
  src/chain/calls_subnet.cpp
  src/chain/calls_support.cpp
  src/chain/calls_weights.cpp
  src/chain/state.cpp
  src/chain/types.cpp)
target_include_directories(merit_chain PUBLIC include)
target_link_libraries(merit_chain
  PUBLIC merit_consensus merit_consensus_json merit_tx merit_net merit_crypto merit_util Threads::Threads
  PRIVATE merit_config RocksDB::rocksdb PkgConfig::ZMQ nlohmann_json::nlohmann_json merit_warnings)

add_executable(merit-chain src/main/merit_chain.cpp)
target_link_libraries(merit-chain PRIVATE merit_chain CLI11::CLI11 merit_warnings)
install(TARGETS merit-chain RUNTIME DESTINATION bin)
