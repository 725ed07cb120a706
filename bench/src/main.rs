//! actnet-bench: the benchmark tools of bench/README.md.
//!
//!   actnet-bench loadgen ...         load generator (echo, --idle, --accept modes)
//!   actnet-bench tokio-echo ...      the reference echo server (plain tokio, tokio-rustls)
//!   actnet-bench mpsc-pingpong ...   the local messaging reference (tokio mpsc)

mod args;
mod echo;
mod loadgen;
mod pingpong;
mod util;

fn usage() -> String {
    format!(
        "usage: actnet-bench <loadgen|tokio-echo|mpsc-pingpong> [options]\n\n{}\n\n{}\n\n{}",
        loadgen::USAGE,
        echo::USAGE,
        pingpong::USAGE
    )
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = argv.first() else {
        eprintln!("{}", usage());
        std::process::exit(2);
    };
    let rest = &argv[1..];
    let result = match command.as_str() {
        "loadgen" => loadgen::main(rest),
        "tokio-echo" => echo::main(rest),
        "mpsc-pingpong" => pingpong::main(rest),
        "-h" | "--help" | "help" => {
            println!("{}", usage());
            Ok(())
        }
        other => Err(format!("unknown subcommand '{other}'\n\n{}", usage())),
    };
    if let Err(e) = result {
        eprintln!("actnet-bench {command}: {e}");
        std::process::exit(1);
    }
}
