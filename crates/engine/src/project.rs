//! Projects (tenants) and their API keys (X1): keys are random secrets stored only as SHA-256 hashes.

use fidelis_core::ids::{ApiKeyId, NewIds, ProjectId};
use fidelis_core::money::Currency;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub currency: Currency,
    pub time_zone: String,
    pub created_at: Timestamp,
}

impl Project {
    /// The project's time zone; the name was validated when the project was created.
    pub fn tz(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    /// The first characters of the secret, to recognise a key in lists without revealing it.
    pub prefix: String,
    /// Hex SHA-256 of the whole secret.
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Prefix of every secret key, so that leaked keys are easy to recognise and scan for.
pub const SECRET_KEY_PREFIX: &str = "fid_sk_";
/// Random characters after the prefix (5 bits each: 200 bits).
pub const SECRET_KEY_RANDOM_CHARS: usize = 40;
/// Characters of the secret shown in key lists.
pub const SECRET_KEY_SHOWN_CHARS: usize = 12;

/// A new key: the record to store and the secret to show once.
pub fn new_api_key(project_id: &ProjectId, now: Timestamp, ids: &mut impl NewIds) -> (ApiKey, String) {
    let secret = format!("{SECRET_KEY_PREFIX}{}", ids.code(SECRET_KEY_RANDOM_CHARS));
    let key = ApiKey {
        id: ApiKeyId::fresh(ids),
        project_id: project_id.clone(),
        prefix: secret.chars().take(SECRET_KEY_SHOWN_CHARS).collect(),
        secret_hash: hash_secret(&secret),
        created_at: now,
        revoked_at: None,
    };
    (key, secret)
}

/// Keys are long random secrets, so a fast hash is enough: there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idgen::UlidIds;

    #[test]
    fn a_new_key_stores_only_the_hash_of_its_secret() {
        let mut ids = UlidIds::new();
        let project = ProjectId::fresh(&mut ids);
        let (key, secret) = new_api_key(&project, Timestamp::UNIX_EPOCH, &mut ids);
        assert!(secret.starts_with(SECRET_KEY_PREFIX));
        assert_eq!(key.secret_hash, hash_secret(&secret));
        assert!(!key.secret_hash.contains(&secret[SECRET_KEY_PREFIX.len()..]));
        assert_eq!(key.prefix.len(), SECRET_KEY_SHOWN_CHARS);
    }
}
