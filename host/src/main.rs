use clap::Parser;
use redis_sessions::Sessions;
use redis_sessions::cli::{self, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    // One call per process: a single-threaded runtime starts fastest.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "{}",
                serde_json::json!({"name": "runtimeError", "message": e.to_string()})
            );
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let url = cli::redis_url(cli.redis.as_deref());
        let result = match Sessions::connect(&url, &cli.namespace).await {
            Ok(sessions) => cli::run(&sessions, cli.command).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(output) => {
                println!("{output}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{}", cli::error_json(&e));
                ExitCode::FAILURE
            }
        }
    })
}
