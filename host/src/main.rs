use clap::Parser;
use redis_sessions::Sessions;
use redis_sessions::cli::{self, Cli, Command};
use std::process::ExitCode;

fn init_logging(default: &str) {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(ref args) => {
            init_logging("info");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build();
            let result = match runtime {
                Ok(rt) => rt.block_on(cli::serve(
                    cli.redis.as_deref(),
                    &cli.namespace,
                    cli.data.as_deref(),
                    args,
                )),
                Err(e) => Err(format!("cannot start the async runtime: {e}")),
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(line) => {
                    eprintln!("redis-sessions: {line}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Tenants(ref command) => {
            init_logging("warn");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let result = match runtime {
                Ok(rt) => rt.block_on(cli::tenants(command)),
                Err(e) => Err(format!("cannot start the async runtime: {e}")),
            };
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
        Command::Call(call) => {
            init_logging("warn");
            // One call per process: a single-threaded runtime starts fastest.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let runtime = match runtime {
                Ok(r) => r,
                Err(e) => {
                    let error =
                        serde_json::json!({"name": "runtimeError", "message": e.to_string()});
                    eprintln!("{error}");
                    return ExitCode::FAILURE;
                }
            };
            runtime.block_on(async {
                let result = match &cli.data {
                    // Like serve: the embedded store replaces Redis, never silently.
                    Some(_)
                        if cli.redis.is_some()
                            || std::env::var("REDIS_URL").is_ok_and(|v| !v.is_empty()) =>
                    {
                        Err(serde_json::json!({
                            "name": "usageError",
                            "message": "--data uses the embedded store instead of Redis: \
                                        give either --data or --redis/REDIS_URL, not both",
                        }))
                    }
                    Some(file) => cli::run_embedded(file, &cli.namespace, call).await,
                    None => {
                        let url = cli::redis_url(cli.redis.as_deref());
                        let result = match Sessions::connect(&url, &cli.namespace).await {
                            Ok(sessions) => cli::run(&sessions, call).await,
                            Err(e) => Err(e),
                        };
                        result.map_err(|e| cli::error_json(&e))
                    }
                };
                match result {
                    Ok(output) => {
                        println!("{output}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
    }
}
