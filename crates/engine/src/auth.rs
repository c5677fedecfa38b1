//! API key authentication with a short-lived cache, so that a hot path costs a hash and a map lookup.

use crate::port::{ReadPort, StoreError};
use crate::project::{ApiKey, Project, hash_secret};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a verified key is trusted without asking the database again. A key revoked by another process
/// stops working within this time; one revoked through this engine stops at once.
pub const API_KEY_CACHE_TTL: Duration = Duration::from_secs(2);
/// Entries kept in the cache before it is cleared.
pub const API_KEY_CACHE_ENTRIES_MAX: usize = 10_000;

#[derive(Clone, Debug)]
pub struct Authenticated {
    pub key: ApiKey,
    pub project: Arc<Project>,
}

#[derive(Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (Instant, Authenticated)>>,
}

impl KeyCache {
    /// The live key whose secret this is, or `None` (unknown or revoked).
    pub async fn authenticate(&self, reads: &dyn ReadPort, secret: &str) -> Result<Option<Authenticated>, StoreError> {
        let hash = hash_secret(secret);
        if let Some((at, found)) = self.entries.read().get(&hash)
            && at.elapsed() < API_KEY_CACHE_TTL
        {
            return Ok(Some(found.clone()));
        }
        let Some((key, project)) = reads.api_key_by_hash(&hash).await? else {
            self.entries.write().remove(&hash);
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            self.entries.write().remove(&hash);
            return Ok(None);
        }
        let found = Authenticated { key, project: Arc::new(project) };
        let mut entries = self.entries.write();
        if entries.len() >= API_KEY_CACHE_ENTRIES_MAX {
            entries.clear();
        }
        entries.insert(hash, (Instant::now(), found.clone()));
        Ok(Some(found))
    }

    /// Forgets every cached key (after a revocation through this process).
    pub fn clear(&self) {
        self.entries.write().clear();
    }
}
