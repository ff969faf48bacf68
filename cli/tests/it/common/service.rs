//! The HTTP service on a free port (or any server of the API, [`Service::at`]), and a
//! client for it.

use redis_sessions_cli::service::http::ConnectionLimits;
use redis_sessions_cli::service::serve;
use redis_sessions_cli::service::tenants::Tenancy;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::oneshot;

/// The service on a free port, stopped when dropped.
pub struct Service {
    pub base: String,
    /// `http://HOST:PORT` of `/metrics`, when started with [`Service::start_with_metrics`].
    pub metrics: Option<String>,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Service {
    pub async fn start(tenancy: impl Into<Tenancy>, wipe_every: Option<Duration>) -> Self {
        Self::serve(tenancy.into(), wipe_every, false).await
    }

    /// As [`Service::start`], with `/metrics` on a port of its own.
    pub async fn start_with_metrics(
        tenancy: impl Into<Tenancy>,
        wipe_every: Option<Duration>,
    ) -> Self {
        Self::serve(tenancy.into(), wipe_every, true).await
    }

    async fn serve(tenancy: Tenancy, wipe_every: Option<Duration>, with_metrics: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_listener = if with_metrics {
            Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        } else {
            None
        };
        let metrics = metrics_listener
            .as_ref()
            .map(|l| format!("http://{}", l.local_addr().unwrap()));
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let limits = ConnectionLimits::default();
            let stopped = async {
                let _ = stopped.await;
            };
            serve::serve(
                listener,
                metrics_listener,
                tenancy,
                wipe_every,
                &limits,
                stopped,
            )
            .await
        });
        Self {
            base,
            metrics,
            client: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// A client of a server started elsewhere (e.g. `wasmtime serve`), at `base`
    /// (`http://HOST:PORT`).
    pub fn at(base: String) -> Self {
        Self {
            base,
            metrics: None,
            client: reqwest::Client::new(),
            stop: None,
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> (StatusCode, Value) {
        self.call_as(None, method, path, body).await
    }

    /// A request with `Authorization: Bearer KEY` when `key` is given.
    pub async fn call_as(
        &self,
        key: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        test_support::http::call_json(&self.client, key, method, &url, body).await
    }

    pub async fn ok(&self, method: &str, path: &str, body: Option<&str>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {value}");
        value
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
