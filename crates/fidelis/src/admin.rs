//! Administration commands: projects, API keys, migrations and a manual run of due jobs.

use anyhow::{Context, bail};
use fidelis_core::ids::{ApiKeyId, ProjectId};
use fidelis_core::money::Currency;
use fidelis_engine::Engine;
use fidelis_engine::idgen::UlidIds;
use fidelis_engine::port::{AdminPort, ReadPort};
use fidelis_engine::project::{Project, new_api_key};
use jiff::Timestamp;

/// The ports administration uses: reads, and the admin writes (tenants and keys).
#[derive(Clone, Copy)]
pub struct Ports<'a> {
    pub reads: &'a dyn ReadPort,
    pub admin: &'a dyn AdminPort,
}

impl<'a> Ports<'a> {
    pub fn of_engine(engine: &'a Engine) -> Ports<'a> {
        Ports { reads: engine.reads(), admin: engine.admin() }
    }
}

/// Creates a project; fails if the name is taken.
pub async fn create_project(ports: Ports<'_>, name: &str, currency: &str, time_zone: &str) -> anyhow::Result<Project> {
    let name =
        fidelis_core::text::bounded("name", name, 64).map_err(|e| anyhow::anyhow!("project name {}", e.message))?;
    let currency = Currency::parse(currency).context("the currency must be an ISO 4217 code such as EUR")?;
    fidelis_core::text::time_zone("time_zone", time_zone).map_err(|e| anyhow::anyhow!("time zone {}", e.message))?;
    if ports.reads.project_by_name(&name).await?.is_some() {
        bail!("a project named '{name}' exists already");
    }
    let mut ids = UlidIds::new();
    let now = Timestamp::now();
    let project =
        Project { id: ProjectId::fresh(ids.at(now)), name, currency, time_zone: time_zone.to_owned(), created_at: now };
    ports.admin.create_project(&project).await?;
    Ok(project)
}

/// The project called `name`, created with the given currency and time zone when missing.
pub async fn project_or_create(
    ports: Ports<'_>,
    name: &str,
    currency: &str,
    time_zone: &str,
) -> anyhow::Result<(Project, bool)> {
    match ports.reads.project_by_name(name).await? {
        Some(p) => Ok((p, false)),
        None => Ok((create_project(ports, name, currency, time_zone).await?, true)),
    }
}

/// Creates a secret key for the project; the secret is returned once and only its hash is stored.
pub async fn create_key(ports: Ports<'_>, project: &Project) -> anyhow::Result<(ApiKeyId, String)> {
    let mut ids = UlidIds::new();
    let now = Timestamp::now();
    let (key, secret) = new_api_key(&project.id, now, ids.at(now));
    ports.admin.create_api_key(&key).await?;
    Ok((key.id, secret))
}

pub async fn revoke_key(ports: Ports<'_>, project: &Project, key: &str) -> anyhow::Result<()> {
    let id = ApiKeyId::parse(key).context("a key id looks like key_…")?;
    if !ports.admin.revoke_api_key(&project.id, &id, Timestamp::now()).await? {
        bail!("project '{}' has no live key {key}", project.name);
    }
    Ok(())
}

pub async fn project_named(ports: Ports<'_>, name: &str) -> anyhow::Result<Project> {
    ports.reads.project_by_name(name).await?.with_context(|| format!("no project named '{name}'"))
}
