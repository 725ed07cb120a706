//! Client connections: connect (with a timeout; the error is returned to the caller), then
//! run the same connection meta-process as accepted sockets.

use std::net::SocketAddr;
use std::sync::mpsc::sync_channel;
use std::time::Duration;
use std::sync::Arc;

use tokio::net::TcpStream;

use crate::error::{Error, Result};
use crate::meta::tcp::connection::{spawn_connection, Setup, Target};
use crate::meta::tcp::options::ConnectionOptions;
use crate::meta::tcp::tls::{self, ClientTls};
use crate::meta::tcp::transport::Transport;
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::current;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub host: String,
    pub port: u16,
    pub connect_timeout: Duration,
    /// Registered name of the process that receives the connection's messages; None means
    /// the owner.
    pub target: Option<String>,
    pub connection: ConnectionOptions,
    /// TLS; None for plain TCP. The handshake completes (or fails) before tcp_connect returns.
    pub tls: Option<ClientTls>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            host: String::new(),
            port: 0,
            connect_timeout: Duration::from_secs(5),
            target: None,
            connection: ConnectionOptions::default(),
            tls: None,
        }
    }
}

/// Connects, then runs the TLS handshake if asked to. Also returns the (local, remote)
/// addresses, read before the peer has had a chance to go away.
async fn establish(host: String, port: u16, limit: Duration, tls: Option<ClientTls>) -> Result<Setup> {
    let tcp = match tokio::time::timeout(limit, connect(&host, port)).await {
        Ok(result) => result?,
        Err(_) => return Err(Error::Timeout),
    };
    let addresses = (tcp.local_addr(), tcp.peer_addr());
    let (Ok(local), Ok(remote)) = addresses else { return Err(Error::Io) };
    let transport = match tls {
        None => Transport::plain(tcp),
        Some(tls) => {
            let (tcp, session, server_name) = tls::connect(tcp, &host, &tls).await?;
            Transport::tls(tcp, session).with_server_name(server_name)
        }
    };
    Ok(Setup::Connected(transport, (local, remote)))
}

async fn connect(host: &str, port: u16) -> Result<TcpStream> {
    let addresses: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|_| Error::DnsFailure)?.collect();
    let mut last = Error::DnsFailure;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Error::from_io(&e),
        }
    }
    Err(last)
}

/// Connects and spawns a connection meta-process (see `Node::tcp_connect`).
pub(crate) fn connect_and_spawn(node: &Node, owner: Id, options: ClientOptions) -> Result<Id> {
    let config = Arc::new(options.connection.validate()?);
    if options.host.is_empty() || options.port == 0 {
        return Err(Error::InvalidArgument);
    }
    node.process_ref(owner)?;
    let target_pid = match &options.target {
        Some(name) => node.whereis(name)?,
        None => owner,
    };
    let target = Target { process: node.process_ref(target_pid)?, by_name: options.target.is_some() };
    let (done, outcome) = sync_channel(1);
    let (host, port, limit) = (options.host.clone(), options.port, options.connect_timeout);
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    node.runtime_handle().spawn(async move {
        let result = tracing::dispatcher::with_default(&dispatch, || establish(host, port, limit, options.tls));
        let _ = done.send(result.await);
    });
    let setup = current::block(|| outcome.recv()).map_err(|_| Error::NodeStopping)??;
    spawn_connection(node, owner, setup, target, config)
}
