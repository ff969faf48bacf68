use clap::Parser;
use redis_sessions_cli::cli::{self, CallError, Cli, Command};
use redis_sessions_cli::service::http::ACCESS_LOG;
use redis_sessions_cli::service::serve;
use std::fmt::Display;
use std::process::ExitCode;

/// jemalloc, with its background threads purging freed pages (after its 10 s decay), so
/// `serve` returns to its footprint after a burst of big answers.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Logs to stderr; `RUST_LOG` replaces `default`. The service's line per request is on
/// only with `access_log` (or a `RUST_LOG` naming its target): at tens of thousands of
/// requests a second it costs a write per request and floods the log (issue #16).
fn init_logging(default: &str, access_log: bool) {
    let configured = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let names_access = configured
        .as_deref()
        .is_some_and(|v| v.contains(ACCESS_LOG));
    let access = if access_log { "info" } else { "off" };
    let directives = match configured {
        Some(v) if names_access && !access_log => v,
        Some(v) => format!("{v},{ACCESS_LOG}={access}"),
        None => format!("{default},{ACCESS_LOG}={access}"),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
        .init();
}

/// One call per process starts fastest on a single-threaded runtime; `serve` takes both
/// cores.
fn runtime(multi_thread: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()
}

/// Prints what to print on stdout, or one line on stderr.
fn exit<T: Display, E: Display>(result: Result<T, E>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(line) => {
            eprintln!("redis-sessions: {line}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let sessions = cli.sessions_builder();
    match cli.command {
        Command::Serve(ref args) => {
            init_logging("info", args.access_log);
            // A long-running server: purge freed memory in the background, not only when
            // the allocator is next busy.
            if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
                tracing::warn!("jemalloc background purging is off: {e}");
            }
            let result = runtime(true).map_err(|e| e.to_string()).and_then(|rt| {
                let options = cli::serve_options(&cli, args).map_err(|e| e.to_string())?;
                rt.block_on(serve::run(&options, serve::shutdown_signal()))
                    .map_err(|e| e.to_string())
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(line) => {
                    eprintln!("redis-sessions: {line}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Tenants(ref command) => {
            init_logging("warn", false);
            exit(runtime(false).map_err(|e| e.to_string()).and_then(|rt| {
                rt.block_on(cli::tenants(command))
                    .map_err(|e| e.to_string())
            }))
        }
        Command::Call(call) => {
            init_logging("warn", false);
            let rt = match runtime(false) {
                Ok(rt) => rt,
                Err(e) => {
                    let error =
                        serde_json::json!({"name": "runtimeError", "message": e.to_string()});
                    eprintln!("{error}");
                    return ExitCode::FAILURE;
                }
            };
            let result = rt.block_on(async {
                match &cli.data {
                    // Like serve: the embedded store replaces Redis, never silently.
                    Some(_)
                        if cli.redis.is_some()
                            || std::env::var("REDIS_URL").is_ok_and(|v| !v.is_empty()) =>
                    {
                        Err(CallError::DataWithRedis)
                    }
                    Some(file) => cli::run_embedded(file, sessions, call).await,
                    None => {
                        let url = cli::redis_url(cli.redis.as_deref());
                        match sessions.connect(&url).await {
                            Ok(sessions) => {
                                cli::run(&sessions, call).await.map_err(CallError::from)
                            }
                            Err(e) => Err(e.into()),
                        }
                    }
                }
            });
            match result {
                Ok(output) => print_output(&output),
                Err(e) => {
                    eprintln!("{}", e.to_json());
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Prints a call's output. A reader that stopped reading (`| head`) is no error: the
/// process exits as command-line tools killed by SIGPIPE do, status 141, without a word.
fn print_output(output: &cli::Output) -> ExitCode {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{output}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(141),
        Err(e) => {
            eprintln!("redis-sessions: cannot write the output: {e}");
            ExitCode::FAILURE
        }
    }
}
