//! The built-in supervisor: starts children from specs, links to them, and restarts them
//! by strategy until restarts come faster than its intensity allows.
//!
//! Restarts never block the supervisor: children that must go first are asked to stop, and
//! the restart happens when the last of their EXIT messages arrives (by then each has left
//! the registry, so its name can be registered again).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::node::ids::Id;
use crate::node::node::Node;
use crate::process::behavior::{Behavior, Context, Factory, Flow};
use crate::process::message::{ExitReason, Message};
use crate::process::process::SpawnOptions;

/// When a supervisor restarts a child that ended.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Restart {
    /// Always (the default).
    Permanent = 0,
    /// Only after an abnormal end (not NORMAL or SHUTDOWN).
    Transient = 1,
    /// Never.
    Temporary = 2,
}

crate::c_enum::c_enum!(Restart { Permanent, Transient, Temporary });

/// Which children a supervisor restarts when one ends.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Strategy {
    /// Only that child (the default).
    OneForOne = 0,
    /// All children: the others are stopped, then all start again in order.
    AllForOne = 1,
    /// That child and those started after it.
    RestForOne = 2,
}

crate::c_enum::c_enum!(Strategy { OneForOne, AllForOne, RestForOne });

#[derive(Clone)]
pub struct ChildSpec {
    /// The child is registered under this name, again after every restart.
    pub name: String,
    pub factory: Arc<dyn Factory>,
    pub args: Vec<u8>,
    pub restart: Restart,
    pub mailbox_size: Option<usize>,
}

#[derive(Clone)]
pub struct SupervisorSpec {
    pub strategy: Strategy,
    /// More than this many restarts within `period` ends the supervisor (MaxRestarts).
    pub intensity: u32,
    pub period: Duration,
    pub children: Vec<ChildSpec>,
}

struct Child {
    spec: ChildSpec,
    pid: Option<Id>,
}

struct Supervisor {
    strategy: Strategy,
    intensity: u32,
    period: Duration,
    children: Vec<Child>,
    restarts: VecDeque<Instant>,
    /// Children asked to stop as part of a restart, whose EXIT has not arrived yet.
    stopping: Vec<Id>,
    /// Indices to start once `stopping` is empty.
    to_start: Vec<usize>,
}

impl Node {
    /// Spawns a supervisor; its children start, in order, before this returns.
    pub fn spawn_supervisor(&self, spec: SupervisorSpec, mut options: SpawnOptions) -> Result<Id> {
        options.trap_exits = true;
        let supervisor = Supervisor {
            strategy: spec.strategy,
            intensity: spec.intensity,
            period: spec.period,
            children: spec.children.into_iter().map(|spec| Child { spec, pid: None }).collect(),
            restarts: VecDeque::new(),
            stopping: Vec::new(),
            to_start: Vec::new(),
        };
        self.spawn(Box::new(supervisor), options)
    }
}

impl Supervisor {
    fn start_child(&mut self, ctx: &Context<'_>, index: usize) -> Result<()> {
        let spec = &self.children[index].spec;
        let options = SpawnOptions {
            name: Some(spec.name.clone()),
            mailbox_size: spec.mailbox_size,
            args: spec.args.clone(),
            trap_exits: false,
            link_to: Some(ctx.pid),
        };
        let pid = ctx.node.spawn(spec.factory.create(), options)?;
        self.children[index].pid = Some(pid);
        Ok(())
    }

    fn stop_children(&mut self, node: &Node, indices: impl DoubleEndedIterator<Item = usize>) {
        for index in indices.rev() {
            if let Some(pid) = self.children[index].pid.take() {
                if node.stop_process(pid).is_ok() {
                    self.stopping.push(pid);
                }
            }
        }
    }

    /// Records a restart; false when that exceeds the intensity.
    fn allow_restart(&mut self) -> bool {
        let now = Instant::now();
        self.restarts.push_back(now);
        while self.restarts.front().is_some_and(|t| now.duration_since(*t) > self.period) {
            self.restarts.pop_front();
        }
        self.restarts.len() <= self.intensity as usize
    }

    fn wants_restart(restart: Restart, reason: ExitReason) -> bool {
        match restart {
            Restart::Permanent => true,
            Restart::Transient => reason.is_abnormal(),
            Restart::Temporary => false,
        }
    }

    fn child_ended(&mut self, ctx: &Context<'_>, index: usize, reason: ExitReason) -> Flow {
        self.children[index].pid = None;
        if !Self::wants_restart(self.children[index].spec.restart, reason) {
            return Flow::Continue;
        }
        if !self.allow_restart() {
            tracing::warn!(supervisor = ctx.pid, "restart intensity exceeded, giving up");
            return Flow::Stop(ExitReason::MaxRestarts);
        }
        let count = self.children.len();
        let first = match self.strategy {
            Strategy::OneForOne => index,
            Strategy::AllForOne => 0,
            Strategy::RestForOne => index,
        };
        let last = if self.strategy == Strategy::OneForOne { index + 1 } else { count };
        self.stop_children(ctx.node, first..last);
        for i in first..last {
            let is_failed_child = i == index;
            if is_failed_child || self.children[i].spec.restart != Restart::Temporary {
                if !self.to_start.contains(&i) {
                    self.to_start.push(i);
                }
            }
        }
        self.to_start.sort_unstable();
        self.start_pending(ctx)
    }

    /// Starts the children waiting for a restart once every child being stopped is gone. A
    /// child whose init fails counts as another restart.
    fn start_pending(&mut self, ctx: &Context<'_>) -> Flow {
        if !self.stopping.is_empty() {
            return Flow::Continue;
        }
        while let Some(&index) = self.to_start.first() {
            if self.children[index].pid.is_some() || self.start_child(ctx, index).is_ok() {
                self.to_start.remove(0);
                continue;
            }
            if ctx.node.is_stopping() || !self.allow_restart() {
                tracing::warn!(supervisor = ctx.pid, child = %self.children[index].spec.name, "child keeps failing to start, giving up");
                return Flow::Stop(ExitReason::MaxRestarts);
            }
        }
        Flow::Continue
    }
}

impl Behavior for Supervisor {
    fn init(&mut self, ctx: &Context<'_>, _args: &[u8]) -> std::result::Result<(), i32> {
        for index in 0..self.children.len() {
            if let Err(e) = self.start_child(ctx, index) {
                tracing::warn!(child = %self.children[index].spec.name, error = %e, "supervisor child failed to start");
                self.stop_children(ctx.node, 0..index);
                return Err(1);
            }
        }
        Ok(())
    }

    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        let Message::Exit { from, reason } = message else { return Flow::Continue };
        if let Some(at) = self.stopping.iter().position(|p| *p == from) {
            self.stopping.swap_remove(at);
            return self.start_pending(ctx);
        }
        if ctx.node.is_stopping() {
            return Flow::Continue;
        }
        match self.children.iter().position(|c| c.pid == Some(from)) {
            Some(index) => self.child_ended(ctx, index, reason),
            // A linked process that is not a child ended abnormally: end with it.
            None if reason.is_abnormal() => Flow::Stop(reason),
            None => Flow::Continue,
        }
    }

    fn terminate(&mut self, ctx: &Context<'_>, _reason: ExitReason) {
        let count = self.children.len();
        self.stop_children(ctx.node, 0..count);
    }

    fn kind(&self) -> &'static str {
        "supervisor"
    }
}
