//! Sensitive values: what they are, where they come from, where they are kept.
//!
//! Secrets never enter [`super::ConnectorConfig`], SQLite, exports or logs. They come from the
//! environment ([`EnvSecrets`], for the CLI and CI) or from the OS keyring ([`KeyringStore`],
//! service [`KEYRING_SERVICE`], entry `<connection id>/<field>`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ConfigError;

/// The keyring service name under which every secret is stored.
pub const KEYRING_SERVICE: &str = "confluence-connector";

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
            keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) => format!(
                "the OS keyring is not reachable ({err}); on Linux start a Secret Service \
                 provider (gnome-keyring or KWallet) and unlock it, or set the environment \
                 variable `{}` instead",
                field.env_var()
            ),
            keyring::Error::BadEncoding(_) => {
                "the stored value is not valid UTF-8; store the secret again".to_string()
            }
            keyring::Error::TooLong(..) | keyring::Error::Invalid(..) => {
                format!("the keyring refused the entry ({err}); use a shorter connection id")
            }
            keyring::Error::Ambiguous(_) => {
                "several keyring entries match; delete the duplicates in your keyring manager"
                    .to_string()
            }
            _ => format!(
                "{err}; set the environment variable `{}` instead",
                field.env_var()
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
}
