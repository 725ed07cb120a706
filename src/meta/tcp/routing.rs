//! Routing accepted connections: no pool means the server's owner; a pool of N names means
//! connection k goes to name k mod N (round-robin over accepted connections), skipping
//! names that are not registered or whose process has ended, for the next live one in the
//! ring. A connection stays with the process it was given for its whole life.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::node::ids::Id;
use crate::node::node::Node;
use crate::meta::tcp::connection::Target;

pub(crate) struct Router {
    owner: Id,
    pool: Vec<String>,
    next: AtomicUsize,
}

impl Router {
    pub(crate) fn new(owner: Id, pool: Vec<String>) -> Router {
        Router { owner, pool, next: AtomicUsize::new(0) }
    }

    /// The target for the next accepted connection; None when no candidate is alive.
    pub(crate) fn pick(&self, node: &Node) -> Option<Target> {
        if self.pool.is_empty() {
            let process = node.process_ref(self.owner).ok()?;
            return Some(Target { process, by_name: false });
        }
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        (0..self.pool.len()).find_map(|i| {
            let name = &self.pool[(k + i) % self.pool.len()];
            let process = node.process_ref(node.whereis(name).ok()?).ok()?;
            process.is_alive().then_some(Target { process, by_name: true })
        })
    }
}
