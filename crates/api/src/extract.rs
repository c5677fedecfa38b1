//! Request extraction with our error object: the API key, JSON bodies (size-limited, unknown fields
//! refused, objects never read from arrays, errors with a JSON-pointer path), the idempotency key and query parameters.

use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::objects_only::ObjectsOnly;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use fidelis_core::limits::{IDEMPOTENCY_KEY_CHARS_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use fidelis_engine::auth::Authenticated;
use fidelis_engine::command::{IdempotencyRequest, Scope};
use fidelis_engine::port::PageRequest;
use serde::de::DeserializeOwned;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The authenticated caller: `Authorization: Bearer <secret key>`.
pub struct Auth(pub Authenticated);

impl Auth {
    pub fn scope(&self) -> Scope {
        Scope { project: self.0.project.clone(), actor: self.0.key.id.to_string(), request_id: String::new() }
    }

    pub fn project(&self) -> &fidelis_core::ids::ProjectId {
        &self.0.project.id
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("send the secret key as 'Authorization: Bearer <key>'"))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <key>'"))?;
        let engine = &state.engine;
        match engine.keys().authenticate(engine.reads(), secret).await? {
            Some(found) => Ok(Auth(found)),
            None => Err(ApiError::unauthorized("the API key is unknown or revoked")),
        }
    }
}

/// A JSON body deserialized into `T`, plus the request's idempotency key (hashed with method, path and body).
pub struct JsonBody<T> {
    pub value: T,
    pub idempotency: Option<IdempotencyRequest>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<JsonBody<T>, ApiError> {
        let raw = read_body(request, state.config.body_bytes_max, state.config.body_read_timeout).await?;
        let value = parse_json(&raw.bytes)?;
        Ok(JsonBody { value, idempotency: raw.idempotency })
    }
}

/// A body taken as bytes (a CSV file), up to `UPLOAD_BYTES_MAX`, plus the request's idempotency key.
pub struct UploadBody {
    pub bytes: axum::body::Bytes,
    pub idempotency: Option<IdempotencyRequest>,
}

/// Largest uploaded file: a full segment import (100,000 rows of up to 128-character ids) fits.
pub const UPLOAD_BYTES_MAX: usize = 16 * 1024 * 1024;

impl FromRequest<AppState> for UploadBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<UploadBody, ApiError> {
        read_body(request, UPLOAD_BYTES_MAX.max(state.config.body_bytes_max), state.config.body_read_timeout).await
    }
}

/// Reads the body whole, within `limit` bytes and `timeout` (a client trickling a body would otherwise
/// hold its connection for as long as it likes).
async fn read_body(request: Request, limit: usize, timeout: std::time::Duration) -> Result<UploadBody, ApiError> {
    let (parts, body) = request.into_parts();
    let key = idempotency_key(&parts)?;
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await.map_err(|_| {
        ApiError::new(
            ErrorCode::RequestTimeout,
            format!("the body did not arrive within {} seconds", timeout.as_secs()),
        )
    })?;
    let bytes =
        read.map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {limit} bytes")))?;
    let idempotency = key.map(|key| IdempotencyRequest { key, request_hash: request_hash(&parts, &bytes) });
    Ok(UploadBody { bytes, idempotency })
}

/// The idempotency key of a request without a body (DELETE).
pub struct IdempotencyOnly(pub Option<IdempotencyRequest>);

impl FromRequestParts<AppState> for IdempotencyOnly {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<IdempotencyOnly, ApiError> {
        let key = idempotency_key(parts)?;
        Ok(IdempotencyOnly(key.map(|key| IdempotencyRequest { key, request_hash: request_hash(parts, &[]) })))
    }
}

fn idempotency_key(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().ok().filter(|t| {
        !t.is_empty() && t.chars().count() <= IDEMPOTENCY_KEY_CHARS_MAX && t.chars().all(|c| c.is_ascii_graphic())
    });
    text.map(|t| Some(t.to_owned())).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidIdempotencyKey,
            format!("Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} printable ASCII characters"),
        )
    })
}

fn request_hash(parts: &Parts, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"?");
    hasher.update(parts.uri.query().unwrap_or("").as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// Deserializes JSON, turning serde's complaint into our error with the path where it happened. Structs
/// are read from objects only, at every depth (`ObjectsOnly`: serde would read an array by position).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(ObjectsOnly(&mut deserializer));
    let value = result.map_err(|e| {
        let path = pointer(e.path());
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    deserializer.end().map_err(|e| json_error("", &e))?;
    Ok(value)
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{key}")),
            Segment::Enum { variant } => Some(format!("/{variant}")),
            Segment::Unknown => None,
        })
        .collect()
}

fn json_error(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let text = e.to_string();
    let (key, message) = match e.classify() {
        // serde_json stops at 128 levels of nesting, before our own depth limits could name the place.
        Category::Syntax if text.starts_with("recursion limit exceeded") => {
            (ErrorCode::JsonTooDeep, format!("the body is nested too deeply: {text}"))
        }
        Category::Syntax | Category::Eof | Category::Io => {
            (ErrorCode::MalformedJson, format!("the body is not valid JSON: {text}"))
        }
        Category::Data if text.starts_with("unknown field") => (ErrorCode::UnknownField, text.clone()),
        Category::Data if text.starts_with("missing field") => (ErrorCode::MissingField, text.clone()),
        Category::Data => (ErrorCode::InvalidType, text.clone()),
    };
    let at = if path.is_empty() { String::new() } else { format!(" at {path}") };
    ApiError::new(key, format!("{message}{at}")).with_details(json!({ "path": path }))
}

/// Query parameters, each at most once.
pub struct Query(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Query, ApiError> {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(ApiError::new(ErrorCode::InvalidQuery, format!("query parameter '{k}' appears twice")));
            }
        }
        Ok(Query(map))
    }
}

impl Query {
    /// Refuses parameters outside `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(ApiError::new(ErrorCode::InvalidQuery, format!("unknown query parameter '{key}'"))),
            None => Ok(()),
        }
    }

    /// `limit` (1–100, default 20) and `cursor` (an id from `next_cursor`, of the type with `cursor_prefix`),
    /// refusing anything else listed as unknown.
    pub fn page(&self, allowed: &[&str], cursor_prefix: &str) -> Result<PageRequest, ApiError> {
        let mut all = vec!["limit", "cursor"];
        all.extend_from_slice(allowed);
        self.only(&all)?;
        let limit = match self.0.get("limit") {
            None => PAGE_SIZE_DEFAULT,
            Some(raw) => raw.parse::<usize>().ok().filter(|l| (1..=PAGE_SIZE_MAX).contains(l)).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("limit must be a whole number from 1 to {PAGE_SIZE_MAX}"),
                )
            })?,
        };
        let before = self.0.get("cursor").cloned();
        if before.as_ref().is_some_and(|c| !fidelis_core::ids::has_id_shape(cursor_prefix, c)) {
            return Err(ApiError::new(ErrorCode::InvalidQuery, "the cursor is not one this API returned"));
        }
        Ok(PageRequest { limit, before })
    }
}

/// `?dry_run=true` and `?explain=true` on a write that earns (orders, events): the explanation says what
/// every earning rule gave or why it gave nothing; a dry run always explains. Other parameters are refused.
pub struct Explained {
    pub dry_run: DryRun,
    pub explain: bool,
}

fn flag(query: &Query, name: &str) -> Result<bool, ApiError> {
    match query.0.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::new(ErrorCode::InvalidQuery, format!("{name} must be true or false"))),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Explained {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Explained, ApiError> {
        let query = Query::from_request_parts(parts, state).await?;
        query.only(&["dry_run", "explain"])?;
        let dry_run = flag(&query, "dry_run")?;
        Ok(Explained { dry_run: DryRun(dry_run), explain: dry_run || flag(&query, "explain")? })
    }
}

/// `?dry_run=true` on a write: decide on a read snapshot and commit nothing. Other query parameters are
/// refused.
pub struct DryRun(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for DryRun {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<DryRun, ApiError> {
        let query = Query::from_request_parts(parts, state).await?;
        query.only(&["dry_run"])?;
        match query.0.get("dry_run").map(String::as_str) {
            None | Some("false") => Ok(DryRun(false)),
            Some("true") => Ok(DryRun(true)),
            Some(_) => Err(ApiError::new(ErrorCode::InvalidQuery, "dry_run must be true or false")),
        }
    }
}
