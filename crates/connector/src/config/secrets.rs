//! Sensitive values: what they are, where they come from, where they are kept.
//!
//! Secrets never enter [`super::ConnectorConfig`], SQLite, exports or logs. They come from the
//! environment ([`EnvSecrets`], for the CLI and CI), from the OS keyring ([`KeyringStore`],
//! service [`KEYRING_SERVICE`], entry `<connection id>/<field>`), or, for a connection set to
//! read them from the environment ([`super::ConnectorConfig::secrets_from_env`], for desktops
//! without a usable keyring), from that connection's own variables ([`ConnectionEnvSecrets`]:
//! `CONFLUENCE_CONNECTOR_<NAME>_<FIELD>`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ConfigError, ConnectorConfig};

/// The keyring service name under which every secret is stored.
pub const KEYRING_SERVICE: &str = "confluence-connector";

/// The start of every variable of a connection that reads its secrets from the environment:
/// `CONFLUENCE_CONNECTOR_<NAME>_<FIELD>` (see [`SecretField::connection_env_var`]).
pub const CONNECTION_ENV_PREFIX: &str = "CONFLUENCE_CONNECTOR_";

/// One sensitive field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SecretField {
    /// Server password (`password`); env `CONFLUENCE_PASSWORD`.
    Password,
    /// Data Center password (`data_center_password`); env `CONFLUENCE_DC_PASSWORD`.
    DataCenterPassword,
    /// Data Center personal access token (`data_center_personal_access_token`); env `CONFLUENCE_PAT`.
    DataCenterPersonalAccessToken,
    /// Cloud API token (`api_token`); env `CONFLUENCE_API_TOKEN`.
    ApiToken,
    /// Elasticsearch API key (`es_api_key`); env `ES_API_KEY`.
    EsApiKey,
    /// Elasticsearch password (`es_password`); env `ES_PASSWORD`.
    EsPassword,
}

impl SecretField {
    /// Every sensitive field.
    pub const ALL: [SecretField; 6] = [
        SecretField::Password,
        SecretField::DataCenterPassword,
        SecretField::DataCenterPersonalAccessToken,
        SecretField::ApiToken,
        SecretField::EsApiKey,
        SecretField::EsPassword,
    ];

    /// The field key, as in `connector.json` and [`super::fields`].
    pub fn key(self) -> &'static str {
        match self {
            SecretField::Password => "password",
            SecretField::DataCenterPassword => "data_center_password",
            SecretField::DataCenterPersonalAccessToken => "data_center_personal_access_token",
            SecretField::ApiToken => "api_token",
            SecretField::EsApiKey => "es_api_key",
            SecretField::EsPassword => "es_password",
        }
    }

    /// The environment variable [`EnvSecrets`] reads.
    pub fn env_var(self) -> &'static str {
        match self {
            SecretField::Password => "CONFLUENCE_PASSWORD",
            SecretField::DataCenterPassword => "CONFLUENCE_DC_PASSWORD",
            SecretField::DataCenterPersonalAccessToken => "CONFLUENCE_PAT",
            SecretField::ApiToken => "CONFLUENCE_API_TOKEN",
            SecretField::EsApiKey => "ES_API_KEY",
            SecretField::EsPassword => "ES_PASSWORD",
        }
    }

    /// The field for a key, if it names a secret.
    pub fn from_key(key: &str) -> Option<Self> {
        SecretField::ALL.into_iter().find(|f| f.key() == key)
    }

    /// What the field holds, for people: `the Confluence Cloud API token`.
    pub fn label(self) -> &'static str {
        match self {
            SecretField::Password => "the Confluence Server password",
            SecretField::DataCenterPassword => "the Confluence Data Center password",
            SecretField::DataCenterPersonalAccessToken => {
                "the Confluence Data Center personal access token"
            }
            SecretField::ApiToken => "the Confluence Cloud API token",
            SecretField::EsApiKey => "the Elasticsearch API key",
            SecretField::EsPassword => "the Elasticsearch password",
        }
    }

    /// The end of a connection's variable for this field: the command line's variable without
    /// `CONFLUENCE_` (`PASSWORD`, `DC_PASSWORD`, `PAT`, `API_TOKEN`, `ES_API_KEY`,
    /// `ES_PASSWORD`).
    pub fn env_suffix(self) -> &'static str {
        let var = self.env_var();
        var.strip_prefix("CONFLUENCE_").unwrap_or(var)
    }

    /// The variable a connection whose name in variables is `name` (see [`env_name`]) reads
    /// this field from: `CONFLUENCE_CONNECTOR_<NAME>_<SUFFIX>`, e.g.
    /// `CONFLUENCE_CONNECTOR_ENGINEERING_WIKI_API_TOKEN`.
    pub fn connection_env_var(self, name: &str) -> String {
        format!(
            "{CONNECTION_ENV_PREFIX}{}_{}",
            env_name(name),
            self.env_suffix()
        )
    }
}

/// A connection's name as its variables spell it: ASCII letters (upper case) and digits, every
/// other run of characters one `_`, none at either end (`Engineering wiki (prod)` →
/// `ENGINEERING_WIKI_PROD`). Empty when the name holds no letter or digit.
pub fn env_name(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_uppercase());
        } else {
            gap = true;
        }
    }
    out
}

/// The sensitive values of one connection. Not serialisable; `Debug` shows `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: BTreeMap<SecretField, String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for field in self.values.keys() {
            map.entry(&field.key(), &"***");
        }
        map.finish()
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Builder form of [`Secrets::set`].
    pub fn with(mut self, field: SecretField, value: impl Into<String>) -> Self {
        self.set(field, value);
        self
    }

    /// The value of `field`, if set and not blank.
    pub fn get(&self, field: SecretField) -> Option<&str> {
        self.values
            .get(&field)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Sets `field`; a blank value removes it.
    pub fn set(&mut self, field: SecretField, value: impl Into<String>) {
        let value = value.into();
        if value.trim().is_empty() {
            self.values.remove(&field);
        } else {
            self.values.insert(field, value);
        }
    }

    /// Removes `field`.
    pub fn remove(&mut self, field: SecretField) {
        self.values.remove(&field);
    }

    /// The fields that hold a value.
    pub fn fields(&self) -> impl Iterator<Item = SecretField> + '_ {
        self.values.keys().copied()
    }

    /// Fills every field not yet set from `source`; the first error stops.
    pub fn fill_from(&mut self, source: &dyn SecretSource) -> Result<(), ConfigError> {
        for field in SecretField::ALL {
            if self.get(field).is_none()
                && let Some(value) = source.secret(field)?
            {
                self.set(field, value);
            }
        }
        Ok(())
    }

    /// Reads every field from `source`.
    pub fn load(source: &dyn SecretSource) -> Result<Self, ConfigError> {
        let mut secrets = Secrets::new();
        secrets.fill_from(source)?;
        Ok(secrets)
    }
}

/// Somewhere secrets can be read from.
pub trait SecretSource {
    /// The value of `field`, `None` when there is none.
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError>;
}

/// Somewhere secrets can also be written to and deleted from.
pub trait SecretStore: SecretSource {
    /// Stores `value` for `field`, replacing any previous one.
    fn store(&self, field: SecretField, value: &str) -> Result<(), ConfigError>;
    /// Deletes `field`; deleting a missing secret is not an error.
    fn delete(&self, field: SecretField) -> Result<(), ConfigError>;

    /// Stores every set value of `secrets` and deletes the others.
    fn store_all(&self, secrets: &Secrets) -> Result<(), ConfigError> {
        for field in SecretField::ALL {
            match secrets.get(field) {
                Some(value) => self.store(field, value)?,
                None => self.delete(field)?,
            }
        }
        Ok(())
    }
}

/// Reads secrets from environment variables ([`SecretField::env_var`]):
/// `CONFLUENCE_PASSWORD`, `CONFLUENCE_DC_PASSWORD`, `CONFLUENCE_PAT`, `CONFLUENCE_API_TOKEN`,
/// `ES_API_KEY`, `ES_PASSWORD`. Empty variables count as unset.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSecrets;

impl SecretSource for EnvSecrets {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        Ok(std::env::var(field.env_var())
            .ok()
            .filter(|v| !v.trim().is_empty()))
    }
}

/// The secrets of one connection from its own environment variables,
/// `CONFLUENCE_CONNECTOR_<NAME>_<FIELD>` ([`SecretField::connection_env_var`]): the way out for
/// a desktop without a usable OS keyring. The connection records only that it reads them from
/// there and its `<NAME>`; the values stay in the environment. Empty variables count as unset.
#[derive(Debug, Clone)]
pub struct ConnectionEnvSecrets {
    name: String,
    /// `None`: the process environment; otherwise these variables (tests).
    vars: Option<BTreeMap<String, String>>,
}

impl ConnectionEnvSecrets {
    /// The variables of the connection named `name` in them (normalised with [`env_name`]).
    pub fn new(name: &str) -> Self {
        ConnectionEnvSecrets {
            name: env_name(name),
            vars: None,
        }
    }

    /// The same, reading `vars` instead of the process environment.
    pub fn with_vars(
        name: &str,
        vars: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        ConnectionEnvSecrets {
            name: env_name(name),
            vars: Some(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
        }
    }

    /// The variables of `config`'s connection when it reads its secrets from the environment.
    pub fn for_config(config: &ConnectorConfig) -> Option<Self> {
        config
            .secrets_from_env
            .then(|| ConnectionEnvSecrets::new(&config.secrets_env_name))
    }

    /// The connection's name in its variables (`ENGINEERING_WIKI`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The variable `field` is read from.
    pub fn var(&self, field: SecretField) -> String {
        field.connection_env_var(&self.name)
    }
}

impl SecretSource for ConnectionEnvSecrets {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        if self.name.is_empty() {
            return Ok(None);
        }
        let var = self.var(field);
        let value = match &self.vars {
            Some(vars) => vars.get(&var).cloned(),
            None => std::env::var(&var).ok(),
        };
        Ok(value.filter(|v| !v.trim().is_empty()))
    }
}

/// The error of an OS keyring that cannot be used at all (no Secret Service running, a locked
/// or refused keyring): what happened, in plain words, and the two ways out. `cause` is the
/// keyring's own description.
pub fn keyring_unavailable(
    connection: &str,
    field: SecretField,
    action: &'static str,
    cause: &str,
) -> ConfigError {
    ConfigError::Keyring {
        action,
        connection: connection.to_owned(),
        field: field.key(),
        message: format!(
            "the OS keyring is not available on this machine ({cause}). Start or unlock your \
             keyring (GNOME Keyring or KWallet on Linux) and try again, or let this connection \
             read its secrets from environment variables instead (\"Read secrets from \
             environment variables\" in its configuration)"
        ),
    }
}

/// An in-memory store, for tests and for callers that hold secrets themselves.
#[derive(Default)]
pub struct MemorySecrets {
    values: Mutex<Secrets>,
}

impl MemorySecrets {
    /// A store holding `secrets`.
    pub fn new(secrets: Secrets) -> Self {
        MemorySecrets {
            values: Mutex::new(secrets),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Secrets> {
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for MemorySecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MemorySecrets").field(&*self.lock()).finish()
    }
}

impl SecretSource for MemorySecrets {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        Ok(self.lock().get(field).map(str::to_string))
    }
}

impl SecretStore for MemorySecrets {
    fn store(&self, field: SecretField, value: &str) -> Result<(), ConfigError> {
        self.lock().set(field, value);
        Ok(())
    }

    fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
        self.lock().remove(field);
        Ok(())
    }
}

/// The OS keyring (Secret Service or keyutils on Linux, Keychain on macOS, Credential Manager
/// on Windows). Entries are `service = confluence-connector`, `user = <connection id>/<field>`.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    connection_id: String,
}

impl KeyringStore {
    /// The secrets of connection `connection_id`.
    pub fn new(connection_id: impl Into<String>) -> Self {
        KeyringStore {
            connection_id: connection_id.into(),
        }
    }

    /// The keyring entry name of `field`: `<connection id>/<field>`.
    pub fn entry_name(&self, field: SecretField) -> String {
        format!("{}/{}", self.connection_id, field.key())
    }

    fn entry(
        &self,
        field: SecretField,
        action: &'static str,
    ) -> Result<keyring::Entry, ConfigError> {
        keyring::Entry::new(KEYRING_SERVICE, &self.entry_name(field))
            .map_err(|e| self.error(field, action, &e))
    }

    fn error(&self, field: SecretField, action: &'static str, err: &keyring::Error) -> ConfigError {
        let hint = match err {
            keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => {
                return keyring_unavailable(&self.connection_id, field, action, &err.to_string());
            }
            keyring::Error::BadEncoding(_) => {
                "the stored value is not valid text: enter the secret again and save".to_string()
            }
            keyring::Error::TooLong(..) | keyring::Error::Invalid(..) => {
                format!("the keyring refused the entry ({err})")
            }
            keyring::Error::Ambiguous(_) => {
                "several keyring entries match: delete the duplicates in your keyring manager"
                    .to_string()
            }
            _ => format!(
                "{err}. Try again, or let this connection read its secrets from environment \
                 variables instead"
            ),
        };
        ConfigError::Keyring {
            action,
            connection: self.connection_id.clone(),
            field: field.key(),
            message: hint,
        }
    }
}

impl SecretSource for KeyringStore {
    fn secret(&self, field: SecretField) -> Result<Option<String>, ConfigError> {
        match self.entry(field, "read")?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(field, "read", &e)),
        }
    }
}

impl SecretStore for KeyringStore {
    fn store(&self, field: SecretField, value: &str) -> Result<(), ConfigError> {
        self.entry(field, "store")?
            .set_password(value)
            .map_err(|e| self.error(field, "store", &e))
    }

    fn delete(&self, field: SecretField) -> Result<(), ConfigError> {
        match self.entry(field, "delete")?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(self.error(field, "delete", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_values() {
        let s = Secrets::new()
            .with(SecretField::ApiToken, "tok-123")
            .with(SecretField::Password, "hunter2");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("tok-123") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("api_token") && shown.contains("***"));
    }

    #[test]
    fn blank_values_are_unset() {
        let mut s = Secrets::new().with(SecretField::ApiToken, "  ");
        assert_eq!(s.get(SecretField::ApiToken), None);
        s.set(SecretField::ApiToken, "x");
        assert_eq!(s.get(SecretField::ApiToken), Some("x"));
    }

    #[test]
    fn memory_store_round_trips_and_fills() {
        let store = MemorySecrets::default();
        store.store(SecretField::EsApiKey, "k").unwrap();
        let mut s = Secrets::new().with(SecretField::EsApiKey, "mine");
        s.fill_from(&store).unwrap();
        assert_eq!(s.get(SecretField::EsApiKey), Some("mine"));
        let loaded = Secrets::load(&store).unwrap();
        assert_eq!(loaded.get(SecretField::EsApiKey), Some("k"));
        store.delete(SecretField::EsApiKey).unwrap();
        assert_eq!(store.secret(SecretField::EsApiKey).unwrap(), None);
    }

    #[test]
    fn env_names_are_documented() {
        let names: Vec<_> = SecretField::ALL.iter().map(|f| f.env_var()).collect();
        assert_eq!(
            names,
            [
                "CONFLUENCE_PASSWORD",
                "CONFLUENCE_DC_PASSWORD",
                "CONFLUENCE_PAT",
                "CONFLUENCE_API_TOKEN",
                "ES_API_KEY",
                "ES_PASSWORD"
            ]
        );
        assert_eq!(
            SecretField::from_key("api_token"),
            Some(SecretField::ApiToken)
        );
    }

    #[test]
    fn keyring_entry_names() {
        let k = KeyringStore::new("prod");
        assert_eq!(k.entry_name(SecretField::ApiToken), "prod/api_token");
    }

    #[test]
    fn connection_variables_are_named_after_the_connection() {
        assert_eq!(env_name("Engineering wiki (prod)"), "ENGINEERING_WIKI_PROD");
        assert_eq!(env_name("  acme--2 "), "ACME_2");
        assert_eq!(env_name("Été"), "T");
        assert_eq!(env_name("---"), "");
        let names: Vec<_> = SecretField::ALL
            .iter()
            .map(|f| f.connection_env_var("wiki"))
            .collect();
        assert_eq!(
            names,
            [
                "CONFLUENCE_CONNECTOR_WIKI_PASSWORD",
                "CONFLUENCE_CONNECTOR_WIKI_DC_PASSWORD",
                "CONFLUENCE_CONNECTOR_WIKI_PAT",
                "CONFLUENCE_CONNECTOR_WIKI_API_TOKEN",
                "CONFLUENCE_CONNECTOR_WIKI_ES_API_KEY",
                "CONFLUENCE_CONNECTOR_WIKI_ES_PASSWORD"
            ]
        );
    }

    #[test]
    fn a_connection_reads_only_its_own_variables() {
        let env = ConnectionEnvSecrets::with_vars(
            "Wiki",
            [
                ("CONFLUENCE_CONNECTOR_WIKI_API_TOKEN", "tok"),
                ("CONFLUENCE_CONNECTOR_WIKI_ES_API_KEY", " "),
                ("CONFLUENCE_CONNECTOR_OTHER_PASSWORD", "pw"),
                ("CONFLUENCE_API_TOKEN", "global"),
            ],
        );
        assert_eq!(env.name(), "WIKI");
        let s = Secrets::load(&env).unwrap();
        assert_eq!(s.get(SecretField::ApiToken), Some("tok"));
        assert_eq!(s.fields().count(), 1, "{s:?}");
        // No name: nothing is read.
        let none =
            ConnectionEnvSecrets::with_vars("--", [("CONFLUENCE_CONNECTOR__API_TOKEN", "x")]);
        assert_eq!(Secrets::load(&none).unwrap(), Secrets::new());
        // Only a connection set to read from the environment has variables.
        let mut config = ConnectorConfig::default();
        assert!(ConnectionEnvSecrets::for_config(&config).is_none());
        config.secrets_from_env = true;
        config.secrets_env_name = "Eng wiki".into();
        let env = ConnectionEnvSecrets::for_config(&config).unwrap();
        assert_eq!(
            env.var(SecretField::Password),
            "CONFLUENCE_CONNECTOR_ENG_WIKI_PASSWORD"
        );
    }

    #[test]
    fn an_unavailable_keyring_is_explained_with_the_way_out() {
        let k = KeyringStore::new("c1");
        for err in [
            keyring::Error::NoStorageAccess("no Secret Service provider".into()),
            keyring::Error::PlatformFailure("org.freedesktop.DBus.Error.ServiceUnknown".into()),
        ] {
            let ConfigError::Keyring {
                message,
                field,
                action,
                ..
            } = k.error(SecretField::ApiToken, "store", &err)
            else {
                panic!("not a keyring error")
            };
            assert_eq!((field, action), ("api_token", "store"));
            assert!(
                message.starts_with("the OS keyring is not available on this machine"),
                "{message}"
            );
            assert!(
                message.contains("GNOME Keyring or KWallet")
                    && message.contains("Read secrets from environment variables"),
                "{message}"
            );
            assert!(!message.contains('`'), "{message}");
        }
    }
}
