// Private to the HTTP server: one accepted connection, serving its requests one at a
// time (keep-alive, pipelining, limits, timeouts, Expect: 100-continue, lingering
// close) as server.h promises. Its listener opens it and calls Serve or Refuse once;
// the server's Stop reaches it through ServerState's registry.
//
// Beast stays in connection.cc: this header needs only Asio's generic socket, so
// server.cc, which accepts, compiles without Beast.
//
// Ownership: a connection owns itself through the shared_ptrs its pending operations
// hold; the listener and the registry need not keep it alive. It points at its
// ListenerConfig (shared) and at the ServerState, which must outlive it.
//
// Thread-safety: every method may be called from any thread; each posts to the
// connection's strand, where all its state is touched.
#pragma once

#include <boost/asio/generic/stream_protocol.hpp>
#include <memory>
#include <string>

#include "http/server_state.h"

namespace trashd::http_internal {

class Connection : public ConnectionBase {
 public:
  // TCP and Unix sockets both arrive as generic stream sockets, so Beast's reader and
  // writer are compiled once.
  using Socket = boost::asio::generic::stream_protocol::socket;

  // A connection on `socket`, counted as open from now on. `socket`'s executor must be
  // a strand.
  static std::shared_ptr<Connection> Open(Socket socket,
                                          std::shared_ptr<ListenerConfig> config,
                                          PeerCredentials peer,
                                          std::string remote_address);

  // Serves requests; the connection holds one of its listener's slots, counted
  // against `address`'s share ("" for none, see ListenerConfig::TakeSlot), until it
  // starts closing.
  virtual void Serve(std::string address) = 0;

  // Answers `status` with `message` at once, without reading a request, and closes.
  virtual void Refuse(int status, std::string message) = 0;
};

}  // namespace trashd::http_internal
