//! The node's TCP API: listen, connect, write. Each method hands over to the module that
//! does the work (`server`, `client`, `connection`).

use std::net::SocketAddr;

use crate::buf::pool::Buf;
use crate::error::{Error, Result};
use crate::meta::tcp::client::{self, ClientOptions};
use crate::meta::tcp::connection;
use crate::meta::tcp::server::{self, ServerOptions};
use crate::node::ids::Id;
use crate::node::node::Node;

impl Node {
    /// Binds, listens and spawns a TCP server owned by process `owner`. Returns its alias and
    /// the bound address.
    pub fn tcp_listen(&self, owner: Id, options: ServerOptions) -> Result<(Id, SocketAddr)> {
        server::listen(self, owner, options)
    }

    /// Connects to `host:port` and spawns a connection meta-process owned by process `owner`.
    /// Blocks the caller (safely, even in a handler) until connected or failed.
    pub fn tcp_connect(&self, owner: Id, options: ClientOptions) -> Result<Id> {
        client::connect_and_spawn(self, owner, options)
    }

    /// Writes `data` (copied if it cannot go out at once) to a connection. WrongKind for a
    /// process's pid, Unsupported for a meta-process that is not a connection.
    pub fn tcp_write(&self, alias: Id, data: &[u8]) -> Result<()> {
        connection::write(self, alias, data)
    }

    /// Writes a pool buffer to a connection; it returns to its pool once written. On error
    /// the buffer is handed back.
    pub fn tcp_write_buf(&self, alias: Id, buf: Buf) -> std::result::Result<(), (Error, Buf)> {
        connection::write_buf(self, alias, buf)
    }
}
