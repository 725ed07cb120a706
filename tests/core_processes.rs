//! Core tests: processes, names, calls, monitors, links, supervisors, meta-processes, stop.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actnet::process::behavior::{Behavior, Context, Factory, Flow};
use actnet::process::message::{ExitReason, Message};
use actnet::process::process::SpawnOptions;
use actnet::process::supervisor::{ChildSpec, Restart, Strategy, SupervisorSpec};
use actnet::{Error, Id, Node, NodeOptions};
use bytes::Bytes;

const WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Init(Id),
    User(Id, u64, Vec<u8>),
    Down(Id, ExitReason),
    Exit(Id, ExitReason),
    Terminate(Id, ExitReason),
}

/// Reports everything it sees; tag 99 makes the handler fail with code 7; calls are
/// answered with the request reversed.
struct Recorder {
    pid: Id,
    out: Sender<Seen>,
}

impl Behavior for Recorder {
    fn init(&mut self, ctx: &Context<'_>, args: &[u8]) -> Result<(), i32> {
        self.pid = ctx.pid;
        if args == b"fail" {
            return Err(3);
        }
        self.out.send(Seen::Init(ctx.pid)).ok();
        Ok(())
    }

    fn handle(&mut self, ctx: &Context<'_>, message: Message) -> Flow {
        match message {
            Message::User { tag: 99, .. } => return Flow::Stop(ExitReason::Error(7)),
            Message::User { from, tag, data } => self.out.send(Seen::User(from, tag, data.to_vec())).ok(),
            Message::Call { reference, data, .. } => {
                let mut v = data.to_vec();
                v.reverse();
                ctx.node.reply(reference, Bytes::from(v)).ok()
            }
            Message::Down { id, reason, .. } => self.out.send(Seen::Down(id, reason)).ok(),
            Message::Exit { from, reason } => self.out.send(Seen::Exit(from, reason)).ok(),
            _ => None,
        };
        Flow::Continue
    }

    fn terminate(&mut self, ctx: &Context<'_>, reason: ExitReason) {
        self.out.send(Seen::Terminate(ctx.pid, reason)).ok();
    }
}

struct RecorderFactory(Mutex<Sender<Seen>>);

impl Factory for RecorderFactory {
    fn create(&self) -> Box<dyn Behavior> {
        Box::new(Recorder { pid: 0, out: self.0.lock().unwrap().clone() })
    }
}

fn node() -> Node {
    Node::start(NodeOptions { worker_threads: 2, ..Default::default() }).unwrap()
}

fn recorder(node: &Node, options: SpawnOptions) -> (Id, Receiver<Seen>) {
    let (tx, rx) = channel();
    let pid = node.spawn(Box::new(Recorder { pid: 0, out: tx }), options).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Seen::Init(pid));
    (pid, rx)
}

fn next(rx: &Receiver<Seen>) -> Seen {
    rx.recv_timeout(WAIT).expect("an event within the timeout")
}

#[test]
fn messages_arrive_in_order_from_a_foreign_thread() {
    let node = node();
    let (pid, rx) = recorder(&node, SpawnOptions::default());
    for i in 0..90u64 {
        node.send(pid, i, Bytes::from(vec![i as u8])).unwrap();
    }
    for i in 0..90u64 {
        assert_eq!(next(&rx), Seen::User(0, i, vec![i as u8]));
    }
    node.stop().unwrap();
    assert_eq!(next(&rx), Seen::Terminate(pid, ExitReason::Shutdown));
}

#[test]
fn names_register_lookup_and_unregister() {
    let node = node();
    let (pid, rx) = recorder(&node, SpawnOptions { name: Some("alpha".into()), ..Default::default() });
    assert_eq!(node.whereis("alpha"), Ok(pid));
    assert_eq!(
        node.spawn(Box::new(Recorder { pid: 0, out: channel().0 }), SpawnOptions { name: Some("alpha".into()), ..Default::default() }),
        Err(Error::NameTaken)
    );
    node.send_named("alpha", 1, Bytes::from_static(b"x")).unwrap();
    assert_eq!(next(&rx), Seen::User(0, 1, b"x".to_vec()));
    node.unregister("alpha").unwrap();
    assert_eq!(node.whereis("alpha"), Err(Error::NotFound));
    node.stop().unwrap();
}

#[test]
fn mailbox_full_is_reported_to_the_sender() {
    let node = node();
    let (gate_tx, gate_rx) = channel::<()>();
    struct Blocked(Mutex<Receiver<()>>);
    impl Behavior for Blocked {
        fn handle(&mut self, _: &Context<'_>, _: Message) -> Flow {
            self.0.lock().unwrap().recv_timeout(WAIT).ok();
            Flow::Continue
        }
    }
    let pid = node
        .spawn(Box::new(Blocked(Mutex::new(gate_rx))), SpawnOptions { mailbox_size: Some(2), ..Default::default() })
        .unwrap();
    node.send(pid, 0, Bytes::new()).unwrap();
    node.send(pid, 0, Bytes::new()).unwrap();
    assert_eq!(node.send(pid, 0, Bytes::new()), Err(Error::MailboxFull));
    gate_tx.send(()).unwrap();
    gate_tx.send(()).unwrap();
    node.stop().unwrap();
}

#[test]
fn init_failure_fails_the_spawn_and_leaves_nothing() {
    let node = node();
    let (tx, _rx) = channel();
    let result = node.spawn(
        Box::new(Recorder { pid: 0, out: tx }),
        SpawnOptions { name: Some("bad".into()), args: b"fail".to_vec(), ..Default::default() },
    );
    assert_eq!(result, Err(Error::InitFailed));
    assert_eq!(node.whereis("bad"), Err(Error::NotFound));
    assert_eq!(node.counts(), (0, 0));
    node.stop().unwrap();
}

#[test]
fn call_replies_and_times_out() {
    let node = node();
    let (pid, _rx) = recorder(&node, SpawnOptions::default());
    let reply = node.call(pid, 0, Bytes::from_static(b"abc"), WAIT).unwrap();
    assert_eq!(&reply[..], b"cba");
    struct Silent;
    impl Behavior for Silent {
        fn handle(&mut self, _: &Context<'_>, _: Message) -> Flow {
            Flow::Continue
        }
    }
    let silent = node.spawn(Box::new(Silent), SpawnOptions::default()).unwrap();
    assert_eq!(node.call(silent, 0, Bytes::new(), Duration::from_millis(50)), Err(Error::Timeout));
    assert_eq!(node.call(9_999_998, 0, Bytes::new(), WAIT), Err(Error::NotFound));
    node.stop().unwrap();
}

#[test]
fn monitor_delivers_down_with_the_reason() {
    let node = node();
    let (watcher, wrx) = recorder(&node, SpawnOptions::default());
    let (target, _trx) = recorder(&node, SpawnOptions::default());
    node.monitor(watcher, target).unwrap();
    node.send(target, 99, Bytes::new()).unwrap();
    assert_eq!(next(&wrx), Seen::Down(target, ExitReason::Error(7)));
    assert_eq!(node.monitor(watcher, target), Err(Error::NotFound));
    node.stop().unwrap();
}

#[test]
fn links_propagate_abnormal_exits_or_deliver_exit_when_trapping() {
    let node = node();
    let (a, arx) = recorder(&node, SpawnOptions::default());
    let (b, brx) = recorder(&node, SpawnOptions { link_to: Some(a), ..Default::default() });
    let (c, crx) = recorder(&node, SpawnOptions { link_to: Some(a), trap_exits: true, ..Default::default() });
    node.send(a, 99, Bytes::new()).unwrap();
    assert_eq!(next(&arx), Seen::Terminate(a, ExitReason::Error(7)));
    assert_eq!(next(&brx), Seen::Terminate(b, ExitReason::Error(7)));
    assert_eq!(next(&crx), Seen::Exit(a, ExitReason::Error(7)));
    assert!(node.inspect(c).is_ok());
    node.stop().unwrap();
}

fn supervisor(node: &Node, strategy: Strategy, intensity: u32) -> (Id, Receiver<Seen>) {
    let (tx, rx) = channel();
    let factory = Arc::new(RecorderFactory(Mutex::new(tx)));
    let children = ["w0", "w1", "w2"]
        .iter()
        .map(|n| ChildSpec {
            name: n.to_string(),
            factory: factory.clone(),
            args: vec![],
            restart: Restart::Permanent,
            mailbox_size: None,
        })
        .collect();
    let spec = SupervisorSpec { strategy, intensity, period: Duration::from_secs(5), children };
    let sup = node.spawn_supervisor(spec, SpawnOptions::default()).unwrap();
    for _ in 0..3 {
        assert!(matches!(next(&rx), Seen::Init(_)));
    }
    (sup, rx)
}

/// Kills a worker, then collects (terminated names, restarted names) until restarts settle.
fn crash_and_observe(node: &Node, rx: &Receiver<Seen>, victim: &str, expect_restarts: usize) -> Vec<String> {
    let names = |pid: Id| ["w0", "w1", "w2"].iter().find(|n| node.whereis(n) == Ok(pid)).map(|s| s.to_string());
    node.send_named(victim, 99, Bytes::new()).unwrap();
    let mut restarted = Vec::new();
    while restarted.len() < expect_restarts {
        if let Seen::Init(pid) = next(rx) {
            restarted.push(names(pid).unwrap_or_default());
        }
    }
    restarted
}

#[test]
fn one_for_one_restarts_only_the_failed_child_with_its_name() {
    let node = node();
    let (_sup, rx) = supervisor(&node, Strategy::OneForOne, 5);
    let before = node.whereis("w1").unwrap();
    assert_eq!(crash_and_observe(&node, &rx, "w1", 1), vec!["w1"]);
    assert_ne!(node.whereis("w1").unwrap(), before);
    node.stop().unwrap();
}

#[test]
fn all_for_one_restarts_every_child_in_order() {
    let node = node();
    let (_sup, rx) = supervisor(&node, Strategy::AllForOne, 5);
    let old: Vec<Id> = ["w0", "w1", "w2"].iter().map(|n| node.whereis(n).unwrap()).collect();
    assert_eq!(crash_and_observe(&node, &rx, "w1", 3), vec!["w0", "w1", "w2"]);
    for (i, n) in ["w0", "w1", "w2"].iter().enumerate() {
        assert_ne!(node.whereis(n).unwrap(), old[i]);
    }
    node.stop().unwrap();
}

#[test]
fn rest_for_one_restarts_the_failed_child_and_later_ones() {
    let node = node();
    let (_sup, rx) = supervisor(&node, Strategy::RestForOne, 5);
    let w0 = node.whereis("w0").unwrap();
    assert_eq!(crash_and_observe(&node, &rx, "w1", 2), vec!["w1", "w2"]);
    assert_eq!(node.whereis("w0").unwrap(), w0);
    node.stop().unwrap();
}

#[test]
fn exceeding_intensity_ends_the_supervisor() {
    let node = node();
    let (watcher, wrx) = recorder(&node, SpawnOptions::default());
    let (sup, rx) = supervisor(&node, Strategy::OneForOne, 2);
    node.monitor(watcher, sup).unwrap();
    crash_and_observe(&node, &rx, "w0", 1);
    crash_and_observe(&node, &rx, "w0", 1);
    node.send_named("w0", 99, Bytes::new()).unwrap();
    assert_eq!(next(&wrx), Seen::Down(sup, ExitReason::MaxRestarts));
    node.stop().unwrap();
}

#[test]
fn meta_processes_forward_and_end_with_their_owner() {
    let node = node();
    let (watcher, wrx) = recorder(&node, SpawnOptions::default());
    let (owner, orx) = recorder(&node, SpawnOptions::default());
    let alias = node.spawn_forwarder(owner, None).unwrap();
    // A forwarder takes messages through meta_send; send is for processes.
    assert_eq!(node.send(alias, 5, Bytes::new()), Err(Error::WrongKind));
    node.meta_send(alias, 5, Bytes::from_static(b"hi")).unwrap();
    assert_eq!(next(&orx), Seen::User(alias, 5, b"hi".to_vec()));
    let info = node.inspect(alias).unwrap();
    assert!(info.contains(&("forwarded".into(), "1".into())));
    node.monitor(watcher, alias).unwrap();
    node.stop_process(owner).unwrap();
    assert_eq!(next(&wrx), Seen::Down(alias, ExitReason::Shutdown));
    assert_eq!(node.meta_send(alias, 5, Bytes::new()), Err(Error::NotFound));
    assert_eq!(node.inspect(alias), Err(Error::NotFound));
    node.stop().unwrap();
}

#[test]
fn stop_from_a_handler_is_refused() {
    let node = node();
    let (tx, rx) = channel();
    struct Stopper(Sender<Result<(), Error>>);
    impl Behavior for Stopper {
        fn handle(&mut self, ctx: &Context<'_>, _: Message) -> Flow {
            self.0.send(ctx.node.stop()).ok();
            Flow::Continue
        }
    }
    let pid = node.spawn(Box::new(Stopper(tx)), SpawnOptions::default()).unwrap();
    node.send(pid, 0, Bytes::new()).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Err(Error::WrongContext));
    node.stop().unwrap();
}

#[test]
fn call_from_inside_a_handler_does_not_deadlock_a_single_worker() {
    let node = Node::start(NodeOptions { worker_threads: 1, ..Default::default() }).unwrap();
    let (server, _rx) = recorder(&node, SpawnOptions::default());
    let (tx, rx) = channel();
    struct Caller(Id, Sender<Vec<u8>>);
    impl Behavior for Caller {
        fn handle(&mut self, ctx: &Context<'_>, _: Message) -> Flow {
            let reply = ctx.node.call(self.0, 0, Bytes::from_static(b"ping"), WAIT).unwrap();
            self.1.send(reply.to_vec()).ok();
            Flow::Continue
        }
    }
    let caller = node.spawn(Box::new(Caller(server, tx)), SpawnOptions::default()).unwrap();
    node.send(caller, 0, Bytes::new()).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), b"gnip".to_vec());
    node.stop().unwrap();
}

#[test]
fn a_process_operation_on_a_meta_process_alias_is_wrong_kind() {
    let node = node();
    let (owner, _orx) = recorder(&node, SpawnOptions::default());
    let (other, _xrx) = recorder(&node, SpawnOptions::default());
    let alias = node.spawn_forwarder(owner, None).unwrap();
    assert_eq!(node.send(alias, 0, Bytes::new()), Err(Error::WrongKind));
    assert_eq!(node.call(alias, 0, Bytes::new(), WAIT), Err(Error::WrongKind));
    assert_eq!(node.stop_process(alias), Err(Error::WrongKind));
    assert_eq!(node.kill(alias), Err(Error::WrongKind));
    assert_eq!(node.set_trap_exits(alias, true), Err(Error::WrongKind));
    assert_eq!(node.link(other, alias), Err(Error::WrongKind));
    assert_eq!(node.register("forwarder", alias), Err(Error::WrongKind));
    assert_eq!(node.monitor(alias, other), Err(Error::WrongKind), "only a process watches");
    // A monitor may target either kind.
    node.monitor(other, alias).unwrap();
    // A process id (even) that names nothing: NotFound; an alias (odd) is WrongKind even
    // when it names nothing, since the kind is in the id.
    assert_eq!(node.send(9_999_998, 0, Bytes::new()), Err(Error::NotFound));
    assert_eq!(node.send(9_999_999, 0, Bytes::new()), Err(Error::WrongKind));
    node.stop().unwrap();
}

#[test]
fn a_meta_operation_on_a_process_id_is_wrong_kind() {
    use actnet::meta::meta_process::StopRequest;
    let node = node();
    let (pid, _rx) = recorder(&node, SpawnOptions::default());
    assert_eq!(node.stop_meta(pid, StopRequest::Graceful), Err(Error::WrongKind));
    assert_eq!(node.stop_meta(pid, StopRequest::Abort), Err(Error::WrongKind));
    assert_eq!(node.meta_send(pid, 0, Bytes::new()), Err(Error::WrongKind));
    assert_eq!(node.tcp_write(pid, b"x"), Err(Error::WrongKind));
    assert_eq!(node.stop_meta(9_999_999, StopRequest::Graceful), Err(Error::NotFound));
    assert_eq!(node.meta_send(9_999_999, 0, Bytes::new()), Err(Error::NotFound));
    assert_eq!(node.tcp_write(9_999_999, b"x"), Err(Error::NotFound));
    // A meta-process of another kind: a forwarder takes no writes.
    let alias = node.spawn_forwarder(pid, None).unwrap();
    assert_eq!(node.tcp_write(alias, b"x"), Err(Error::Unsupported));
    node.stop().unwrap();
}

#[test]
fn a_process_that_has_ended_is_not_found_and_keeps_its_kind() {
    let node = node();
    let (pid, rx) = recorder(&node, SpawnOptions::default());
    node.stop_process(pid).unwrap();
    assert_eq!(next(&rx), Seen::Terminate(pid, ExitReason::Shutdown));
    use actnet::meta::meta_process::StopRequest;
    assert_eq!(node.send(pid, 0, Bytes::new()), Err(Error::NotFound));
    assert_eq!(node.stop_meta(pid, StopRequest::Graceful), Err(Error::WrongKind));
    node.stop().unwrap();
}
