//! Shared state of every handler.

use fidelis_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// Largest request body by default, in bytes (a 500-item order fits comfortably).
pub const BODY_BYTES_MAX_DEFAULT: usize = 1024 * 1024;

/// Time a client has to send a request body once its header arrived, by default: a 16 MiB upload needs
/// at least 280 KiB/s.
pub const BODY_READ_TIMEOUT_SECONDS_DEFAULT: u64 = 60;

#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub body_bytes_max: usize,
    pub body_read_timeout: std::time::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            body_bytes_max: BODY_BYTES_MAX_DEFAULT,
            body_read_timeout: std::time::Duration::from_secs(BODY_READ_TIMEOUT_SECONDS_DEFAULT),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Arc<ApiConfig>,
    pub metrics: Option<PrometheusHandle>,
}
