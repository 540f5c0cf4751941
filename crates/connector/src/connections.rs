//! Saved connections, from the store to a run: resolve a connection (by id or name) into its
//! configuration, secrets and active rules; save, duplicate, delete, import and export it.
//!
//! Secrets come from an injected [`SecretVault`]: the OS keyring ([`KeyringVault`]), the
//! environment ([`EnvVault`], read-only), both with the environment first ([`LayeredVault`], the
//! CLI's), or memory ([`MemoryVault`], tests). A connection set to read its secrets from the
//! environment ([`ConnectorConfig::secrets_from_env`]) never touches the vault: its secrets come
//! from its own variables ([`ConnectionEnvSecrets`]). A sandbox connection takes its Confluence address
//! and credentials from a [`SiteOverlay`] the caller passes (the simulator it started); the
//! engine itself never starts a simulator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::config::{
    ConfigError, ConnectionEnvSecrets, ConnectorConfig, EnvSecrets, KeyringStore, MemorySecrets,
    SecretField, SecretSource, SecretStore, Secrets, connector_json,
};
use crate::confluence::Flavor;
use crate::rules::{self, BasicRule, RuleSet};
use crate::store::{ConnectionSummary, RuleState, SavedConnection, Store, StoredRules};
use crate::sync::SyncOptions;
use crate::{Error, Result};

// ---------------------------------------------------------------------------------------------
// Secret vaults

/// Where the secrets of every connection live: one [`SecretStore`] per connection id.
pub trait SecretVault: Send + Sync {
    /// The secrets of connection `id`.
    fn for_connection(&self, id: &str) -> Box<dyn SecretStore>;
}

/// The OS keyring: entries `<connection id>/<field>` of service
/// [`KEYRING_SERVICE`](crate::config::KEYRING_SERVICE).
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyringVault;

impl SecretVault for KeyringVault {
    fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
        Box::new(KeyringStore::new(id))
    }
}

/// Environment variables ([`SecretField::env_var`]), the same for every connection. Read-only:
/// storing or deleting fails with a message naming the variable.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvVault;

impl SecretVault for EnvVault {
    fn for_connection(&self, _id: &str) -> Box<dyn SecretStore> {
        Box::new(EnvStore)
    }
}

struct EnvStore;

impl SecretSource for EnvStore {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        EnvSecrets.secret(field)
    }
}

impl SecretStore for EnvStore {
    fn store(&self, field: SecretField, _value: &str) -> Result<(), ConfigError> {
        Err(read_only(field))
    }

    fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
        Err(read_only(field))
    }
}

fn read_only(field: SecretField) -> ConfigError {
    ConfigError::InvalidValue {
        field: field.key().to_owned(),
        message: format!(
            "secrets from environment variables cannot be stored or deleted; set or unset `{}`",
            field.env_var()
        ),
    }
}

/// In memory, per connection, for tests and for callers that hold secrets themselves.
#[derive(Default)]
pub struct MemoryVault {
    stores: Mutex<HashMap<String, Arc<MemorySecrets>>>,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> Self {
        MemoryVault::default()
    }

    /// The secrets stored for connection `id`.
    pub fn secrets_of(&self, id: &str) -> Secrets {
        Secrets::load(&SharedMemory(self.store(id))).unwrap_or_default()
    }

    fn store(&self, id: &str) -> Arc<MemorySecrets> {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        stores.entry(id.to_owned()).or_default().clone()
    }
}

impl SecretVault for MemoryVault {
    fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
        Box::new(SharedMemory(self.store(id)))
    }
}

struct SharedMemory(Arc<MemorySecrets>);

impl SecretSource for SharedMemory {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        self.0.secret(field)
    }
}

impl SecretStore for SharedMemory {
    fn store(&self, field: SecretField, value: &str) -> Result<(), ConfigError> {
        self.0.store(field, value)
    }

    fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
        self.0.delete(field)
    }
}

/// Two vaults: values of `over` win; the others come from `under`, where writes also go.
///
/// When `under` cannot be read (no Secret Service, common on servers and in CI) and `over`
/// provides at least one secret of the connection, the missing fields read as unset instead of
/// failing: validation then names what is missing.
pub struct LayeredVault {
    over: Arc<dyn SecretVault>,
    under: Arc<dyn SecretVault>,
}

impl LayeredVault {
    /// `over` first, then `under`.
    pub fn new(over: Arc<dyn SecretVault>, under: Arc<dyn SecretVault>) -> Self {
        LayeredVault { over, under }
    }

    /// The CLI's vault: environment variables over the OS keyring.
    pub fn env_over_keyring() -> Self {
        LayeredVault::new(Arc::new(EnvVault), Arc::new(KeyringVault))
    }
}

impl SecretVault for LayeredVault {
    fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
        Box::new(LayeredStore {
            over: self.over.for_connection(id),
            under: self.under.for_connection(id),
        })
    }
}

struct LayeredStore {
    over: Box<dyn SecretStore>,
    under: Box<dyn SecretStore>,
}

impl SecretSource for LayeredStore {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        if let Some(value) = self.over.secret(field)? {
            return Ok(Some(value));
        }
        match self.under.secret(field) {
            Ok(value) => Ok(value),
            Err(err) => {
                let over_provides = SecretField::ALL
                    .into_iter()
                    .any(|f| matches!(self.over.secret(f), Ok(Some(_))));
                if over_provides {
                    tracing::debug!(%err, "secret store not reachable; using the other source");
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }
}

impl SecretStore for LayeredStore {
    fn store(&self, field: SecretField, value: &str) -> Result<(), ConfigError> {
        self.under.store(field, value)
    }

    fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
        self.under.delete(field)
    }
}

/// Whether `store` can be read: `Err` with the store's own explanation (for the keyring: why
/// it is not reachable and which environment variable to set instead) when it cannot.
pub fn probe(store: &dyn SecretStore) -> Result<(), ConfigError> {
    store.secret(SecretField::ApiToken).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// The sandbox overlay

/// The Confluence site a sandbox connection reaches: the configuration and secrets of a
/// simulator the caller started (see the `connector-sandbox` crate).
#[derive(Debug, Clone)]
pub struct SiteOverlay {
    /// A configuration that reaches the site (address, data source, account).
    pub config: ConnectorConfig,
    /// The site's credentials.
    pub secrets: Secrets,
}

impl SiteOverlay {
    /// `stored` pointed at the site: its address, data source and account come from the
    /// overlay, everything else (spaces, labels, document-level security, threshold, the
    /// target) from `stored`.
    pub fn apply(&self, stored: &ConnectorConfig) -> ConnectorConfig {
        let site = &self.config;
        ConnectorConfig {
            data_source: site.data_source,
            username: site.username.clone(),
            data_center_auth_method: site.data_center_auth_method,
            data_center_username: site.data_center_username.clone(),
            account_email: site.account_email.clone(),
            confluence_url: site.confluence_url.clone(),
            ssl_enabled: false,
            ssl_ca: String::new(),
            tls_insecure_skip_verify: false,
            ..stored.clone()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Finding and resolving

/// Connection `id_or_name`: an id, else a name (exact, then ignoring case). An unknown or
/// ambiguous name is an error listing the connections.
pub fn find(store: &Store, id_or_name: &str) -> Result<SavedConnection> {
    let wanted = id_or_name.trim();
    if let Some(saved) = store.load_connection(wanted)? {
        return Ok(saved);
    }
    let all = store.list_connections()?;
    let exact: Vec<&ConnectionSummary> = all.iter().filter(|c| c.name == wanted).collect();
    let matches = if exact.is_empty() {
        all.iter()
            .filter(|c| c.name.eq_ignore_ascii_case(wanted))
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [one] => store
            .load_connection(&one.id)?
            .ok_or_else(|| Error::NotFound(format!("connection `{wanted}`"))),
        [] => Err(Error::NotFound(format!(
            "connection `{wanted}` (known connections: {})",
            if all.is_empty() {
                "none; import one first".to_owned()
            } else {
                names(all.iter())
            }
        ))),
        many => Err(Error::InvalidInput(format!(
            "`{wanted}` names {} connections ({}); use the id",
            many.len(),
            names(many.iter().copied())
        ))),
    }
}

fn names<'a>(list: impl Iterator<Item = &'a ConnectionSummary>) -> String {
    list.map(|c| format!("`{}` (id {})", c.name, c.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A connection ready to run: what was saved, the configuration and secrets a run uses, and
/// the active rules.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The saved connection.
    pub saved: SavedConnection,
    /// The configuration a run uses (a sandbox's pointed at its site).
    pub config: ConnectorConfig,
    /// The secrets a run uses.
    pub secrets: Secrets,
    /// The active rules, if any were activated.
    pub rules: Option<RuleSet>,
}

impl Resolved {
    /// The options of a run of this connection: its id, its active rules and `trigger`.
    pub fn sync_options(&self, trigger: &str) -> SyncOptions {
        SyncOptions {
            connection_id: Some(self.saved.id.clone()),
            trigger: trigger.to_owned(),
            rules: self.rules.clone(),
            ..SyncOptions::default()
        }
    }
}

/// The secrets of `saved`: the overlay's for a sandbox, its environment variables for a
/// connection that reads them from there, else the vault's.
pub fn secrets_of(
    saved: &SavedConnection,
    vault: &dyn SecretVault,
    overlay: Option<&SiteOverlay>,
) -> Result<Secrets> {
    if saved.sandbox {
        return Ok(sandbox_overlay(saved, overlay)?.secrets.clone());
    }
    if let Some(env) = ConnectionEnvSecrets::for_config(&saved.config) {
        return Ok(Secrets::load(&env)?);
    }
    Ok(Secrets::load(&*vault.for_connection(&saved.id))?)
}

/// The configuration a run of `saved` uses: a sandbox's pointed at the overlay's site.
pub fn config_of(
    saved: &SavedConnection,
    overlay: Option<&SiteOverlay>,
) -> Result<ConnectorConfig> {
    if saved.sandbox {
        return Ok(sandbox_overlay(saved, overlay)?.apply(&saved.config));
    }
    Ok(saved.config.clone())
}

fn sandbox_overlay<'a>(
    saved: &SavedConnection,
    overlay: Option<&'a SiteOverlay>,
) -> Result<&'a SiteOverlay> {
    overlay.ok_or_else(|| {
        Error::InvalidInput(format!(
            "connection `{}` is the sandbox: its Confluence is the built-in simulator, which \
             is not running here",
            saved.name
        ))
    })
}

/// Connection `id_or_name` ready to run (see [`find`], [`secrets_of`], [`config_of`]).
pub fn resolve(
    store: &Store,
    vault: &dyn SecretVault,
    overlay: Option<&SiteOverlay>,
    id_or_name: &str,
) -> Result<Resolved> {
    let saved = find(store, id_or_name)?;
    let config = config_of(&saved, overlay)?;
    let secrets = secrets_of(&saved, vault, overlay)?;
    let rules = store
        .rules(&saved.id, RuleState::Active)?
        .map(|stored| stored.rules)
        .filter(|rules| !rules.is_empty());
    Ok(Resolved {
        saved,
        config,
        secrets,
        rules,
    })
}

// ---------------------------------------------------------------------------------------------
// Save, duplicate, delete

/// What [`save`] writes.
#[derive(Debug, Clone)]
pub struct SaveRequest {
    /// The connection to update; `None` creates one with a new id.
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// Its whole configuration (never secrets).
    pub config: ConnectorConfig,
    /// Secret changes: `Some` stores the value, `None` (or blank) deletes it; fields not listed
    /// stay as they are. Ignored for the sandbox.
    pub secrets: Vec<(SecretField, Option<String>)>,
}

/// Saves a connection: its secret changes to the vault first, then its row. A sandbox stays a
/// sandbox (its secrets are the simulator's). A connection that reads its secrets from the
/// environment leaves the vault alone; a secret typed for it is refused, naming its variable.
pub fn save(
    store: &Store,
    vault: &dyn SecretVault,
    request: &SaveRequest,
) -> Result<ConnectionSummary> {
    let existing = match &request.id {
        Some(id) => store.load_connection(id)?,
        None => None,
    };
    let sandbox = existing.as_ref().is_some_and(|s| s.sandbox);
    let id = request.id.clone().unwrap_or_else(new_id);
    if request.name.trim().is_empty() {
        return Err(Error::InvalidInput("a connection needs a name".to_owned()));
    }
    if let Some(env) = ConnectionEnvSecrets::for_config(&request.config).filter(|_| !sandbox) {
        let typed: Vec<String> = request
            .secrets
            .iter()
            .filter(|(_, value)| value.as_deref().is_some_and(|v| !v.trim().is_empty()))
            .map(|(field, _)| env.var(*field))
            .collect();
        if !typed.is_empty() {
            return Err(Error::InvalidInput(format!(
                "this connection reads its secrets from environment variables, so typed secrets \
                 are not saved: set {} instead",
                typed.join(", ")
            )));
        }
    } else if !sandbox {
        let secrets = vault.for_connection(&id);
        for (field, value) in &request.secrets {
            match value.as_deref().map(str::trim) {
                Some(v) if !v.is_empty() => secrets.store(*field, v)?,
                _ => secrets.delete(*field)?,
            }
        }
    }
    store.save_connection(&id, &request.name, &request.config, sandbox)
}

/// Copies connection `id` (configuration, active rules and, unless it is the sandbox, its
/// stored secrets) as `new_name`, by default "<name> (copy)".
pub fn duplicate(
    store: &mut Store,
    vault: &dyn SecretVault,
    id: &str,
    new_name: Option<&str>,
) -> Result<ConnectionSummary> {
    let saved = find(store, id)?;
    let new_id = new_id();
    if !saved.sandbox && !saved.config.secrets_from_env {
        let secrets = Secrets::load(&*vault.for_connection(&saved.id))?;
        vault.for_connection(&new_id).store_all(&secrets)?;
    }
    let name = new_name
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} (copy)", saved.name));
    let summary = store.duplicate_connection(&saved.id, &new_id, &name)?;
    if let Some(active) = store.rules(&saved.id, RuleState::Active)? {
        store.save_draft_rules(&new_id, &active.rules)?;
        store.activate_rules(&new_id)?;
    }
    Ok(summary)
}

/// What [`delete`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Deleted {
    /// The connection that was deleted.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Why its stored secrets could not be deleted, if they could not.
    pub secrets_kept: Option<String>,
}

/// Deletes connection `id_or_name`, its job history, rules and schedules, then its stored
/// secrets (a vault that cannot delete them is reported, not an error).
pub fn delete(store: &Store, vault: &dyn SecretVault, id_or_name: &str) -> Result<Deleted> {
    let saved = find(store, id_or_name)?;
    store.delete_connection(&saved.id)?;
    let secrets_kept = if saved.sandbox || saved.config.secrets_from_env {
        None
    } else {
        vault
            .for_connection(&saved.id)
            .store_all(&Secrets::new())
            .err()
            .map(|err| err.to_string())
    };
    if let Some(problem) = &secrets_kept {
        tracing::warn!(%problem, "the deleted connection's secrets stay where they were");
    }
    Ok(Deleted {
        id: saved.id,
        name: saved.name,
        secrets_kept,
    })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------------
// Import and export

/// A connection as a `connector.json` document: the full saved configuration (HTTP, extraction
/// and target settings included, never secrets), its name, and its active rules as Elastic's
/// `filtering` block.
pub fn export(store: &Store, id_or_name: &str) -> Result<Value> {
    let saved = find(store, id_or_name)?;
    let rules = store
        .rules(&saved.id, RuleState::Active)?
        .map(|stored| stored.rules)
        .unwrap_or_default();
    let mut doc = connector_json::export(&saved.config);
    if let Value::Object(map) = &mut doc {
        map.insert("name".to_owned(), json!(saved.name));
        map.insert("filtering".to_owned(), filtering_block(&rules));
    }
    Ok(doc)
}

/// `rules` as Elastic's `filtering` block: one `DEFAULT` domain whose active and draft rules
/// are the basic rules (with the catch-all `DEFAULT` rule last) and the advanced snippet.
pub fn filtering_block(rules: &RuleSet) -> Value {
    let mut basic = rules.basic.clone();
    if !basic.iter().any(BasicRule::is_default) {
        let mut default = BasicRule::default_rule();
        default.order = basic.iter().map(|r| r.order).fold(0.0, f64::max) + 1.0;
        basic.push(default);
    }
    let rules_json: Vec<Value> = basic
        .iter()
        .map(|rule| serde_json::to_value(rule).unwrap_or(Value::Null))
        .collect();
    let advanced = serde_json::to_value(&rules.advanced).unwrap_or(Value::Null);
    let version = json!({
        "rules": rules_json,
        "advanced_snippet": {"value": advanced},
        "validation": {"state": "valid", "errors": []},
    });
    json!([{"domain": "DEFAULT", "active": version, "draft": version}])
}

/// The rules of a `connector.json` document's `filtering` block (the active version), checked
/// as a sync would check them for `flavor`. `None` when the document has no such block; an
/// error naming every problem when the engine cannot honour it.
pub fn filtering_rules(doc: &Value, flavor: Flavor) -> Result<Option<RuleSet>> {
    let Some(block) = doc.get("filtering") else {
        return Ok(None);
    };
    let rules = RuleSet::from_value(block).map_err(|problems| {
        Error::InvalidInput(format!(
            "the `filtering` block cannot be used: {}",
            problems
                .iter()
                .map(rules::describe)
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let validation = rules::validate_offline(&rules, flavor);
    if !validation.valid {
        return Err(Error::InvalidInput(format!(
            "the `filtering` block cannot be used: {}",
            validation
                .problems
                .iter()
                .filter(|p| p.severity == crate::config::Severity::Error)
                .map(rules::describe)
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    Ok(Some(rules))
}

/// The number of basic rules that select something (the catch-all `DEFAULT` rule not counted)
/// and of advanced rules.
pub fn rule_counts(rules: &RuleSet) -> (usize, usize) {
    (
        rules.basic.iter().filter(|r| !r.is_default()).count(),
        rules.advanced.len(),
    )
}

/// What [`import`] did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// The new connection.
    pub summary: ConnectionSummary,
    /// Notes for the user (ignored keys).
    pub warnings: Vec<String>,
    /// The rules of the document's `filtering` block, now active.
    pub rules: Option<StoredRules>,
    /// The secrets stored in the vault.
    pub secrets_stored: Vec<SecretField>,
    /// Why the secrets could not be stored, if they could not.
    pub secrets_problem: Option<String>,
}

/// Imports a `connector.json` document as a new connection named `name` (by default the
/// document's `name`). Its `filtering` block becomes the active rules (an invalid block is an
/// error and nothing is saved). The document's secrets, with `secrets` over them, are stored
/// in `vault`; a vault that cannot store them is reported, not an error.
pub fn import(
    store: &mut Store,
    vault: &dyn SecretVault,
    text: &str,
    name: Option<&str>,
    secrets: &Secrets,
) -> Result<ImportOutcome> {
    let doc: Value = serde_json::from_str(text).map_err(ConfigError::from)?;
    let imported = connector_json::import_value(&doc)?;
    let rules = filtering_rules(&doc, Flavor::from(imported.config.data_source))?;
    let name = name
        .map(str::to_owned)
        .or_else(|| doc.get("name").and_then(Value::as_str).map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            Error::InvalidInput("the document has no `name`: give the connection one".to_owned())
        })?;
    if store
        .list_connections()?
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(name.trim()))
    {
        return Err(Error::InvalidInput(format!(
            "a connection named `{}` exists already; choose another name or delete it first",
            name.trim()
        )));
    }
    let id = new_id();
    let mut all = imported.secrets.clone();
    for field in secrets.fields() {
        if let Some(value) = secrets.get(field) {
            all.set(field, value);
        }
    }
    let mut secrets_stored = Vec::new();
    let mut secrets_problem = None;
    let target = vault.for_connection(&id);
    for field in all.fields() {
        let Some(value) = all.get(field) else {
            continue;
        };
        match target.store(field, value) {
            Ok(()) => secrets_stored.push(field),
            Err(err) => {
                secrets_problem = Some(err.to_string());
                break;
            }
        }
    }
    let summary = store.save_connection(&id, &name, &imported.config, false)?;
    let rules = match rules.filter(|r| !r.is_empty()) {
        Some(rules) => {
            store.save_draft_rules(&id, &rules)?;
            Some(store.activate_rules(&id)?)
        }
        None => None,
    };
    Ok(ImportOutcome {
        summary,
        warnings: imported.warnings,
        rules,
        secrets_stored,
        secrets_problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataSource, Target};
    use crate::rules::{AdvancedRule, BasicOp, Policy};

    fn cloud() -> ConnectorConfig {
        ConnectorConfig {
            data_source: DataSource::ConfluenceCloud,
            confluence_url: "https://acme.atlassian.net".into(),
            account_email: "ann@acme.test".into(),
            deletion_threshold_percent: 80,
            target: Target::Local {
                index_name: "acme".into(),
            },
            ..ConnectorConfig::default()
        }
    }

    fn rules() -> RuleSet {
        RuleSet {
            basic: vec![BasicRule {
                id: "no-drafts".into(),
                order: 1.0,
                policy: Policy::Exclude,
                field: "title".into(),
                rule: BasicOp::StartsWith,
                value: "Draft".into(),
            }],
            advanced: vec![AdvancedRule {
                query: "space = ENG".into(),
            }],
        }
    }

    fn saved(store: &Store, vault: &MemoryVault, name: &str) -> ConnectionSummary {
        save(
            store,
            vault,
            &SaveRequest {
                id: None,
                name: name.into(),
                config: cloud(),
                secrets: vec![(SecretField::ApiToken, Some("tok".into()))],
            },
        )
        .unwrap()
    }

    #[test]
    fn connections_are_found_by_id_or_name_and_errors_list_the_names() {
        let store = Store::open_in_memory().unwrap();
        let vault = MemoryVault::new();
        let acme = saved(&store, &vault, "Acme");
        saved(&store, &vault, "Beta");
        saved(&store, &vault, "beta");
        assert_eq!(find(&store, &acme.id).unwrap().name, "Acme");
        assert_eq!(find(&store, "acme").unwrap().id, acme.id);
        assert_eq!(find(&store, "Beta").unwrap().name, "Beta");
        let err = find(&store, "BETA").unwrap_err().to_string();
        assert!(
            err.contains("names 2 connections") && err.contains("`beta`"),
            "{err}"
        );
        let err = find(&store, "gamma").unwrap_err().to_string();
        assert!(
            err.contains("known connections: ") && err.contains("`Acme` (id "),
            "{err}"
        );
        let empty = Store::open_in_memory().unwrap();
        let err = find(&empty, "x").unwrap_err().to_string();
        assert!(err.contains("none; import one first"), "{err}");
    }

    #[test]
    fn resolve_reads_secrets_from_the_vault_and_the_active_rules() {
        let mut store = Store::open_in_memory().unwrap();
        let vault = MemoryVault::new();
        let acme = saved(&store, &vault, "Acme");
        let r = resolve(&store, &vault, None, "Acme").unwrap();
        assert_eq!(r.secrets.get(SecretField::ApiToken), Some("tok"));
        assert_eq!(r.config, cloud());
        assert_eq!(r.rules, None);
        store.save_draft_rules(&acme.id, &rules()).unwrap();
        assert_eq!(resolve(&store, &vault, None, "Acme").unwrap().rules, None);
        store.activate_rules(&acme.id).unwrap();
        let r = resolve(&store, &vault, None, "Acme").unwrap();
        assert_eq!(r.rules, Some(rules()));
        let options = r.sync_options("scheduled");
        assert_eq!(options.connection_id.as_deref(), Some(acme.id.as_str()));
        assert_eq!(options.trigger, "scheduled");
        assert_eq!(options.rules, Some(rules()));
    }

    #[test]
    fn a_sandbox_takes_its_site_from_the_overlay() {
        let store = Store::open_in_memory().unwrap();
        let vault = MemoryVault::new();
        let mut stored = cloud();
        stored.spaces = vec!["ENG".into()];
        stored.ssl_enabled = true;
        store
            .save_connection("sb", "Sandbox", &stored, true)
            .unwrap();
        let err = resolve(&store, &vault, None, "sb").unwrap_err().to_string();
        assert!(err.contains("is the sandbox"), "{err}");
        let overlay = SiteOverlay {
            config: ConnectorConfig {
                data_source: DataSource::ConfluenceServer,
                username: "crawler".into(),
                confluence_url: "http://127.0.0.1:4000".into(),
                ..ConnectorConfig::default()
            },
            secrets: Secrets::new().with(SecretField::Password, "pw"),
        };
        let r = resolve(&store, &vault, Some(&overlay), "Sandbox").unwrap();
        assert_eq!(r.config.confluence_url, "http://127.0.0.1:4000");
        assert_eq!(r.config.data_source, DataSource::ConfluenceServer);
        assert_eq!(r.config.username, "crawler");
        assert_eq!(r.config.spaces, ["ENG"]);
        assert_eq!(r.config.deletion_threshold_percent, 80);
        assert!(!r.config.ssl_enabled);
        assert_eq!(r.config.target, stored.target);
        assert_eq!(r.secrets.get(SecretField::Password), Some("pw"));
    }

    #[test]
    fn save_duplicate_and_delete_carry_the_secrets() {
        let mut store = Store::open_in_memory().unwrap();
        let vault = MemoryVault::new();
        let acme = saved(&store, &vault, "Acme");
        store.save_draft_rules(&acme.id, &rules()).unwrap();
        store.activate_rules(&acme.id).unwrap();
        let copy = duplicate(&mut store, &vault, "Acme", None).unwrap();
        assert_eq!(copy.name, "Acme (copy)");
        assert_eq!(
            vault.secrets_of(&copy.id).get(SecretField::ApiToken),
            Some("tok")
        );
        assert_eq!(
            store
                .rules(&copy.id, RuleState::Active)
                .unwrap()
                .unwrap()
                .rules,
            rules()
        );
        // Updating: a blank value deletes, unlisted fields stay.
        save(
            &store,
            &vault,
            &SaveRequest {
                id: Some(copy.id.clone()),
                name: "Copy".into(),
                config: cloud(),
                secrets: vec![
                    (SecretField::ApiToken, Some(" ".into())),
                    (SecretField::EsApiKey, Some("key".into())),
                ],
            },
        )
        .unwrap();
        let s = vault.secrets_of(&copy.id);
        assert_eq!(s.get(SecretField::ApiToken), None);
        assert_eq!(s.get(SecretField::EsApiKey), Some("key"));
        let deleted = delete(&store, &vault, "Copy").unwrap();
        assert_eq!(
            (deleted.id.as_str(), deleted.secrets_kept),
            (copy.id.as_str(), None)
        );
        assert_eq!(vault.secrets_of(&copy.id), Secrets::new());
        assert!(find(&store, "Copy").is_err());
        assert!(matches!(
            delete(&store, &vault, "Copy"),
            Err(Error::NotFound(_))
        ));
    }

    /// A vault whose every use fails as a machine without a keyring does.
    struct NoKeyring;
    impl SecretVault for NoKeyring {
        fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
            Box::new(NoKeyringStore(id.to_owned()))
        }
    }
    struct NoKeyringStore(String);
    impl SecretSource for NoKeyringStore {
        fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
            Err(crate::config::keyring_unavailable(
                &self.0,
                field,
                "read",
                "no Secret Service",
            ))
        }
    }
    impl SecretStore for NoKeyringStore {
        fn store(&self, field: SecretField, _: &str) -> Result<(), ConfigError> {
            self.secret(field).map(|_| ())
        }
        fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
            self.secret(field).map(|_| ())
        }
    }

    #[test]
    fn without_a_keyring_a_connection_saves_only_with_secrets_from_its_variables() {
        let mut store = Store::open_in_memory().unwrap();
        let request = |config: ConnectorConfig, token: Option<&str>| SaveRequest {
            id: None,
            name: "Wiki".into(),
            config,
            secrets: vec![(SecretField::ApiToken, token.map(str::to_owned))],
        };
        // The keyring's own words reach the caller: unavailable, and the way out.
        let err = save(&store, &NoKeyring, &request(cloud(), Some("tok")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the OS keyring is not available")
                && err.contains("Read secrets from environment variables"),
            "{err}"
        );
        assert!(store.list_connections().unwrap().is_empty());
        // From the environment: saved without the keyring, read from its variables.
        let mut env_config = cloud();
        env_config.secrets_from_env = true;
        env_config.secrets_env_name = "WIKI".into();
        let err = save(
            &store,
            &NoKeyring,
            &request(env_config.clone(), Some("tok")),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("set CONFLUENCE_CONNECTOR_WIKI_API_TOKEN instead"),
            "{err}"
        );
        let summary = save(&store, &NoKeyring, &request(env_config.clone(), None)).unwrap();
        let saved = find(&store, "Wiki").unwrap();
        assert!(saved.config.secrets_from_env);
        assert_eq!(saved.config.secrets_env_name, "WIKI");
        // Resolving reads the process environment, where the variable is not set here: no
        // keyring error, an empty token that validation then names.
        let r = resolve(&store, &NoKeyring, None, "Wiki").unwrap();
        assert_eq!(r.secrets, Secrets::new());
        let problems = crate::config::validate(&r.config, &r.secrets);
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("CONFLUENCE_CONNECTOR_WIKI_API_TOKEN")),
            "{problems:?}"
        );
        // Duplicating and deleting leave the keyring alone too.
        let copy = duplicate(&mut store, &NoKeyring, &summary.id, None).unwrap();
        let deleted = delete(&store, &NoKeyring, &copy.id).unwrap();
        assert_eq!(deleted.secrets_kept, None);
    }

    #[test]
    fn export_then_import_round_trips_settings_and_rules_never_secrets() {
        let mut store = Store::open_in_memory().unwrap();
        let vault = MemoryVault::new();
        let mut config = cloud();
        config.http.max_concurrent_requests = 3;
        config.extraction.max_text_bytes = 1234;
        store.save_connection("c1", "Acme", &config, false).unwrap();
        vault
            .for_connection("c1")
            .store(SecretField::ApiToken, "secret-token")
            .unwrap();
        store.save_draft_rules("c1", &rules()).unwrap();
        store.activate_rules("c1").unwrap();
        let doc = export(&store, "Acme").unwrap();
        let text = doc.to_string();
        assert!(!text.contains("secret-token"), "{text}");
        assert_eq!(doc["name"], "Acme");
        assert_eq!(
            doc["filtering"][0]["active"]["advanced_snippet"]["value"][0]["query"],
            "space = ENG"
        );
        let rules_json = doc["filtering"][0]["active"]["rules"].as_array().unwrap();
        assert_eq!(rules_json.len(), 2);
        assert_eq!(rules_json[1]["id"], "DEFAULT");

        let other = MemoryVault::new();
        let err = import(&mut store, &other, &text, None, &Secrets::new()).unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        let env = Secrets::new().with(SecretField::ApiToken, "from-env");
        let outcome = import(&mut store, &other, &text, Some("Acme 2"), &env).unwrap();
        assert_eq!(outcome.secrets_stored, [SecretField::ApiToken]);
        assert_eq!(outcome.secrets_problem, None);
        let back = find(&store, "Acme 2").unwrap();
        assert_eq!(back.config, config);
        let active = outcome.rules.unwrap();
        assert_eq!(active.rules.advanced, rules().advanced);
        assert_eq!(rule_counts(&active.rules), (1, 1));
        assert_eq!(
            other.secrets_of(&back.id).get(SecretField::ApiToken),
            Some("from-env")
        );
    }

    #[test]
    fn a_read_only_vault_reports_instead_of_failing_the_import() {
        let mut store = Store::open_in_memory().unwrap();
        let doc = connector_json::export(&cloud()).to_string();
        let env = Secrets::new().with(SecretField::ApiToken, "t");
        let outcome = import(&mut store, &EnvVault, &doc, Some("Env"), &env).unwrap();
        assert!(outcome.secrets_stored.is_empty());
        let problem = outcome.secrets_problem.unwrap();
        assert!(problem.contains("CONFLUENCE_API_TOKEN"), "{problem}");
        assert!(outcome.rules.is_none());
    }

    #[test]
    fn an_invalid_filtering_block_is_an_error_naming_the_problem() {
        let doc = json!({
            "filtering": [{"domain": "DEFAULT", "active": {
                "rules": [{"id": "x", "order": 1, "policy": "keep", "field": "title",
                           "rule": "equals", "value": "a"}],
                "advanced_snippet": {"value": []}}}]
        });
        let err = filtering_rules(&doc, Flavor::Cloud)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("basic rule `x`") && err.contains("policy"),
            "{err}"
        );
        let doc = json!({"filtering": [{"active": {"rules": [],
            "advanced_snippet": {"value": [{"query": "type = page and status = current"}]}}}]});
        let err = filtering_rules(&doc, Flavor::Cloud)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("advanced rule 1") && err.contains("status"),
            "{err}"
        );
        assert_eq!(filtering_rules(&json!({}), Flavor::Cloud).unwrap(), None);
        let ok = filtering_rules(
            &json!({"filtering": filtering_block(&rules())}),
            Flavor::Cloud,
        )
        .unwrap()
        .unwrap();
        assert_eq!(rule_counts(&ok), (1, 1));
    }

    #[test]
    fn the_layered_vault_reads_over_first_and_tolerates_an_unreachable_under() {
        struct Broken;
        impl SecretVault for Broken {
            fn for_connection(&self, id: &str) -> Box<dyn SecretStore> {
                Box::new(BrokenStore(id.to_owned()))
            }
        }
        struct BrokenStore(String);
        impl SecretSource for BrokenStore {
            fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
                Err(ConfigError::Keyring {
                    action: "read",
                    connection: self.0.clone(),
                    field: field.key(),
                    message: "no Secret Service".into(),
                })
            }
        }
        impl SecretStore for BrokenStore {
            fn store(&self, field: SecretField, _: &str) -> Result<(), ConfigError> {
                self.secret(field).map(|_| ())
            }
            fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
                self.secret(field).map(|_| ())
            }
        }
        let over = Arc::new(MemoryVault::new());
        let layered = LayeredVault::new(over.clone(), Arc::new(Broken));
        // Nothing over: the under store's error (with its hint) surfaces.
        let err = Secrets::load(&*layered.for_connection("c1")).unwrap_err();
        assert!(err.to_string().contains("no Secret Service"), "{err}");
        assert!(probe(&*layered.for_connection("c1")).is_err());
        // Something over: the rest reads as unset.
        over.for_connection("c1")
            .store(SecretField::ApiToken, "env")
            .unwrap();
        let s = Secrets::load(&*layered.for_connection("c1")).unwrap();
        assert_eq!(s.get(SecretField::ApiToken), Some("env"));
        assert_eq!(s.fields().count(), 1);
        // Over wins over a reachable under.
        let under = Arc::new(MemoryVault::new());
        under
            .for_connection("c1")
            .store(SecretField::ApiToken, "keyring")
            .unwrap();
        under
            .for_connection("c1")
            .store(SecretField::EsApiKey, "es")
            .unwrap();
        let layered = LayeredVault::new(over, under.clone());
        let s = Secrets::load(&*layered.for_connection("c1")).unwrap();
        assert_eq!(s.get(SecretField::ApiToken), Some("env"));
        assert_eq!(s.get(SecretField::EsApiKey), Some("es"));
        layered
            .for_connection("c1")
            .store(SecretField::EsPassword, "pw")
            .unwrap();
        assert_eq!(
            under.secrets_of("c1").get(SecretField::EsPassword),
            Some("pw")
        );
        assert!(
            EnvVault
                .for_connection("x")
                .store(SecretField::ApiToken, "v")
                .is_err()
        );
    }
}
