//! Saved connections: a name, the full configuration (never its secrets) and whether the
//! connection is the sandbox (the built-in simulator, whose address changes at every start).

use rusqlite::{OptionalExtension, params};

use super::{ConnectionSummary, Store};
use crate::config::ConnectorConfig;
use crate::{Error, Result};

/// A saved connection, as the configuration form and a sync read it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedConnection {
    /// Stable id of the connection.
    pub id: String,
    /// The name the admin gave it.
    pub name: String,
    /// Every non-secret value; secrets live in the OS keyring under the connection id.
    pub config: ConnectorConfig,
    /// True for the sandbox connection: the Confluence address and credentials come from the
    /// simulator started by the app, not from `config`.
    pub sandbox: bool,
}

impl Store {
    /// Creates or replaces connection `id` (keeping its creation time and its jobs).
    pub fn save_connection(
        &self,
        id: &str,
        name: &str,
        config: &ConnectorConfig,
        sandbox: bool,
    ) -> Result<ConnectionSummary> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("a connection needs a name".to_owned()));
        }
        self.conn.execute(
            "INSERT INTO connections (id, name, data_source, created_at, config, sandbox)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                data_source = excluded.data_source, config = excluded.config,
                sandbox = excluded.sandbox",
            params![
                id,
                name,
                config.data_source.as_str(),
                serde_json::to_string(config)?,
                sandbox
            ],
        )?;
        self.connection_summary(id)?
            .ok_or_else(|| Error::NotFound(format!("connection `{id}`")))
    }

    /// Connection `id`, or `None` when there is no such connection. A connection saved before
    /// configurations were stored reads as the default configuration of its data source.
    pub fn load_connection(&self, id: &str) -> Result<Option<SavedConnection>> {
        let row = self
            .conn
            .query_row(
                "SELECT name, data_source, config, sandbox FROM connections WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, bool>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((name, data_source, config, sandbox)) = row else {
            return Ok(None);
        };
        let config = match config {
            Some(text) => serde_json::from_str(&text)?,
            None => ConnectorConfig {
                data_source: crate::config::DataSource::parse(&data_source).unwrap_or_default(),
                ..ConnectorConfig::default()
            },
        };
        Ok(Some(SavedConnection {
            id: id.to_owned(),
            name,
            config,
            sandbox,
        }))
    }

    /// Copies connection `id` (configuration only, not its jobs) as `new_id` named `new_name`.
    pub fn duplicate_connection(
        &self,
        id: &str,
        new_id: &str,
        new_name: &str,
    ) -> Result<ConnectionSummary> {
        let saved = self
            .load_connection(id)?
            .ok_or_else(|| Error::NotFound(format!("connection `{id}`")))?;
        self.save_connection(new_id, new_name, &saved.config, saved.sandbox)
    }

    /// Deletes connection `id` and its job history; `false` when there was no such connection.
    pub fn delete_connection(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM connections WHERE id = ?1", [id])?
            > 0)
    }

    /// The id of the sandbox connection, if one was saved.
    pub fn sandbox_connection(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM connections WHERE sandbox = 1 ORDER BY created_at LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn connection_summary(&self, id: &str) -> Result<Option<ConnectionSummary>> {
        Ok(self.list_connections()?.into_iter().find(|c| c.id == id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataSource, Target};
    use crate::store::{JobRecord, JobStatus, JobType};

    fn cloud() -> ConnectorConfig {
        ConnectorConfig {
            data_source: DataSource::ConfluenceCloud,
            confluence_url: "https://acme.atlassian.net".into(),
            account_email: "ann@acme.test".into(),
            spaces: vec!["ENG".into(), "OPS".into()],
            target: Target::Local {
                index_name: "acme".into(),
            },
            ..ConnectorConfig::default()
        }
    }

    #[test]
    fn a_saved_connection_reads_back_with_its_whole_configuration() {
        let store = Store::open_in_memory().unwrap();
        let summary = store
            .save_connection("c1", " Acme ", &cloud(), false)
            .unwrap();
        assert_eq!(summary.name, "Acme");
        assert_eq!(summary.data_source, "confluence_cloud");
        assert!(!summary.sandbox);
        let saved = store.load_connection("c1").unwrap().unwrap();
        assert_eq!(saved.config, cloud());
        assert_eq!(store.load_connection("nope").unwrap(), None);
    }

    #[test]
    fn saving_again_updates_in_place_and_keeps_the_history() {
        let store = Store::open_in_memory().unwrap();
        store
            .save_connection("c1", "Acme", &cloud(), false)
            .unwrap();
        store
            .insert_job(&JobRecord {
                id: "j1".into(),
                connection_id: Some("c1".into()),
                job_type: JobType::Full,
                trigger: "manual".into(),
                status: JobStatus::Running,
                started_at: "2026-11-29T05:00:00.000Z".into(),
                ended_at: None,
                duration_s: None,
                counters: Default::default(),
                requests: 0,
                errors: vec![],
                config: serde_json::Value::Null,
                rules: serde_json::Value::Null,
                delta: None,
                notes: Vec::new(),
            })
            .unwrap();
        let mut changed = cloud();
        changed.data_source = DataSource::ConfluenceServer;
        store
            .save_connection("c1", "Renamed", &changed, false)
            .unwrap();
        let listed = store.list_connections().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "Renamed");
        assert_eq!(listed[0].data_source, "confluence_server");
        assert_eq!(store.list_jobs(Some("c1"), 10).unwrap().len(), 1);
    }

    #[test]
    fn duplicate_copies_the_configuration_and_delete_removes_jobs_too() {
        let store = Store::open_in_memory().unwrap();
        store.save_connection("c1", "Acme", &cloud(), true).unwrap();
        let copy = store
            .duplicate_connection("c1", "c2", "Acme (copy)")
            .unwrap();
        assert!(copy.sandbox);
        assert_eq!(
            store.load_connection("c2").unwrap().unwrap().config,
            cloud()
        );
        assert_eq!(store.sandbox_connection().unwrap().as_deref(), Some("c1"));
        assert!(store.delete_connection("c1").unwrap());
        assert!(!store.delete_connection("c1").unwrap());
        assert_eq!(store.sandbox_connection().unwrap().as_deref(), Some("c2"));
        assert!(matches!(
            store.duplicate_connection("c1", "c3", "x"),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn a_name_is_required() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(
            store.save_connection("c1", "  ", &cloud(), false),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn connections_added_without_a_configuration_read_as_defaults() {
        let store = Store::open_in_memory().unwrap();
        store
            .add_connection("old", "Old", "confluence_data_center")
            .unwrap();
        let saved = store.load_connection("old").unwrap().unwrap();
        assert_eq!(saved.config.data_source, DataSource::ConfluenceDataCenter);
        assert!(!saved.sandbox);
    }
}
