//! Shared state of every handler.

use fidelis_engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// Largest request body by default, in bytes (a 500-item order fits comfortably).
pub const BODY_BYTES_MAX_DEFAULT: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct ApiConfig {
    pub body_bytes_max: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { body_bytes_max: BODY_BYTES_MAX_DEFAULT }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub config: Arc<ApiConfig>,
    pub metrics: Option<PrometheusHandle>,
}
