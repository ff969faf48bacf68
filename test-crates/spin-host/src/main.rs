//! A test host with Spin's semantics, for CI, which cannot afford to build Spin
//! (`scripts/test-spin` runs real Spin): it serves `wasi:http/incoming-handler` of a component (one new instance per
//! request, as Spin does) and gives it what Spin 3 gives an HTTP component that the plug
//! needs, over a real Redis:
//!
//! - `fermyon:spin/redis@2.0.0` `connection.open` and `execute`, with Spin's own reply
//!   conversion (`crates/factor-outbound-redis/src/host.rs`): arrays flattened at any depth,
//!   empty inner arrays gone; `--spin-semantics 3.4` drops nil and `OK` elements, `3.5`
//!   keeps nil and gives `status("OK")`; Redis errors as `other(text)` in the words of a
//!   redis-rs client; `open` refused with `invalid-address` unless the URL matches an
//!   `--allowed-outbound-host` (Spin's `allowed_outbound_hosts`, `*` for any host or port);
//! - `fermyon:spin/variables@2.0.0` `get`, from `--variable name=value`;
//! - WASI 0.2 (CLI imports, clocks, random) and `wasi:http`;
//! - Spin's instance limits (its pooling allocator's defaults, [`limits`]).
//!
//! Not modeled: the manifest, triggers other than HTTP, routes (every path goes to the
//! component), the typed Redis calls (`get`, `set`, ...: they answer `other`), connection
//! limits, TLS, blocked networks, the other Spin interfaces, and Spin's redis-rs version
//! (this host's redis-rs words errors its own way; the plug matches NOSCRIPT by name).
//!
//! `redis-sessions-spin-host --addr 127.0.0.1:3000 --spin-semantics 3.5
//!   --allowed-outbound-host redis://127.0.0.1:6379
//!   --variable redis_url=redis://127.0.0.1:6379 target/wasm/redis-sessions-spin.wasm`

mod limits;
mod spin;

use clap::Parser;
use hyper::server::conn::http1;
use spin::{Config, HasSpin, Semantics, SpinCtx};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{Result, Store, bail, format_err};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

#[derive(Debug, Parser)]
#[command(about = "Serves a wasi:http component with Spin's redis and variables semantics")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    /// Whose reply conversion `execute` applies.
    #[arg(long, value_enum)]
    spin_semantics: Semantics,
    /// A `redis://host:port` the component may open (repeatable).
    #[arg(long = "allowed-outbound-host")]
    allowed: Vec<String>,
    /// A Spin variable, `name=value` (repeatable).
    #[arg(long = "variable", value_parser = variable)]
    variables: Vec<(String, String)>,
    /// The component (exports wasi:http/incoming-handler).
    component: PathBuf,
}

fn variable(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not name=value"))
}

/// One request's store data.
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    /// What `spin.rs` serves from.
    config: Arc<Config>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: wasmtime_wasi_http::default_hooks(),
        }
    }
}

struct Server {
    pre: ProxyPre<State>,
    config: Arc<Config>,
}

impl Server {
    async fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<HyperOutgoingBody>> {
        let mut store = Store::new(
            self.pre.engine(),
            State {
                wasi: WasiCtx::builder().inherit_stderr().build(),
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
                config: self.config.clone(),
            },
        );
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let req = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        // The guest may go on writing the body after it set the response: its own task.
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(store, req, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let e = match task.await {
                    Ok(Ok(())) => format_err!("the guest set no response"),
                    Ok(Err(e)) => e,
                    Err(e) => e.into(),
                };
                Err(e.context("the guest set no response"))
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.allowed.iter().any(|a| !a.starts_with("redis://")) {
        bail!("--allowed-outbound-host takes redis://host:port entries");
    }
    let config = Arc::new(Config {
        semantics: args.spin_semantics,
        allowed: args.allowed,
        variables: args.variables.into_iter().collect::<HashMap<_, _>>(),
    });
    let engine = limits::engine()?;
    let component = Component::from_file(&engine, &args.component)
        .with_context(|| format!("cannot load {}", args.component.display()))?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    spin::Spin::add_to_linker::<State, HasSpin>(&mut linker, |s| SpinCtx {
        config: &s.config,
        table: &mut s.table,
    })?;
    let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
    let server = Arc::new(Server { pre, config });

    let listener = TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    eprintln!(
        "serving {} on http://{}",
        args.component.display(),
        args.addr
    );
    loop {
        let (client, _) = listener.accept().await?;
        let server = server.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let server = server.clone();
                async move { server.handle(req).await }
            });
            if let Err(e) = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(client), service)
                .await
            {
                eprintln!("error serving a client: {e:?}");
            }
        });
    }
}
