//! The watchdog: one thread per node that issues the wake-ups held by a callback that has run
//! for too long (see `process::worker_slot::WorkerSlot`), so a foreign handler that blocks its
//! worker thread never strands the processes it woke.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::process::worker_slot::WorkerSlot;

/// How often the watchdog looks while callbacks run.
const TICK: Duration = Duration::from_millis(10);
/// How often it looks when no callback has run for a while (a lighter touch on idle nodes).
const IDLE_TICK: Duration = Duration::from_millis(100);
/// Ticks without a callback before the idle pace.
const IDLE_AFTER: u32 = 100;
/// A callback running for this many ticks has its wake-ups released.
const STUCK_TICKS: u64 = 2;

pub(crate) struct Watchdog {
    ticks: Arc<AtomicU64>,
    slots: Arc<Mutex<Vec<Arc<WorkerSlot>>>>,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Watchdog {
    pub(crate) fn start(node_name: &str) -> std::io::Result<Watchdog> {
        let ticks = Arc::new(AtomicU64::new(0));
        let slots: Arc<Mutex<Vec<Arc<WorkerSlot>>>> = Arc::default();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let (ticks, slots, stop) = (ticks.clone(), slots.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("actnet-{node_name}-watchdog"))
                .spawn(move || watch(&ticks, &slots, &stop))?
        };
        Ok(Watchdog { ticks, slots, stop, thread: Mutex::new(Some(thread)) })
    }

    /// A slot for a new runtime thread.
    pub(crate) fn new_slot(&self) -> Arc<WorkerSlot> {
        let slot = Arc::new(WorkerSlot::new(self.ticks.clone()));
        self.slots.lock().unwrap().push(slot.clone());
        slot
    }

    /// Forgets the slot of a runtime thread that ends (tokio's blocking threads come and go).
    pub(crate) fn drop_slot(&self, slot: &Arc<WorkerSlot>) {
        self.slots.lock().unwrap().retain(|s| !Arc::ptr_eq(s, slot));
    }

    pub(crate) fn stop(&self) {
        *self.stop.0.lock().unwrap() = true;
        self.stop.1.notify_all();
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
    }
}

fn watch(ticks: &AtomicU64, slots: &Mutex<Vec<Arc<WorkerSlot>>>, stop: &(Mutex<bool>, Condvar)) {
    let mut quiet_ticks = 0;
    let mut stopped = stop.0.lock().unwrap();
    while !*stopped {
        let pace = if quiet_ticks > IDLE_AFTER { IDLE_TICK } else { TICK };
        stopped = stop.1.wait_timeout(stopped, pace).unwrap().0;
        let now = ticks.fetch_add(1, Ordering::AcqRel) + 1;
        let mut busy = false;
        for slot in slots.lock().unwrap().iter() {
            busy |= slot.busy();
            slot.release_if_stuck(now, STUCK_TICKS);
        }
        quiet_ticks = if busy { 0 } else { quiet_ticks + 1 };
    }
}
