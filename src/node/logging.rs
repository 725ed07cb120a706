//! Logging: every node routes the `tracing` events of its own threads either to a foreign
//! callback or, by default, to human-readable lines on stderr.

use std::fmt::Write as _;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Log levels, most severe first; `OFF` silences the node.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    Off = 0,
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

crate::c_enum::c_enum!(LogLevel { Off, Error, Warn, Info, Debug, Trace });

/// Receives each log line the node emits: its level and the formatted text.
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, line: &str);
    /// The node has stopped: release whatever the sink holds. Later lines may be dropped.
    fn close(&self) {}
}

impl LogLevel {
    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Off => LevelFilter::OFF,
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }

    fn of(level: &Level) -> LogLevel {
        match *level {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            Level::TRACE => LogLevel::Trace,
        }
    }
}

/// The dispatcher a node installs on its threads.
pub(crate) fn dispatch(node_name: &str, level: LogLevel, sink: Option<Arc<dyn LogSink>>) -> Dispatch {
    let filter = level.filter();
    match sink {
        Some(sink) => Dispatch::new(
            tracing_subscriber::registry().with(filter).with(SinkLayer { node: node_name.to_owned(), sink }),
        ),
        None => Dispatch::new(
            tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_ansi(false)
                .with_max_level(filter)
                .with_thread_names(false)
                .finish(),
        ),
    }
}

struct SinkLayer {
    node: String,
    sink: Arc<dyn LogSink>,
}

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = TextVisitor(format!("[{}] ", self.node));
        event.record(&mut text);
        self.sink.log(LogLevel::of(event.metadata().level()), &text.0);
    }
}

/// Formats the event's message followed by its other fields as `key=value`.
struct TextVisitor(String);

impl Visit for TextVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

/// Runs `f` with warnings going to stderr, for library calls made outside any node (such as
/// loading certificates), so that their reasons are not lost. A node's own threads keep the
/// node's logger.
pub fn outside_node<R>(f: impl FnOnce() -> R) -> R {
    static FALLBACK: std::sync::OnceLock<Dispatch> = std::sync::OnceLock::new();
    let fallback = FALLBACK.get_or_init(|| dispatch("actnet", LogLevel::Warn, None));
    tracing::dispatcher::with_default(fallback, f)
}
