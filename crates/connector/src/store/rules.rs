//! Sync rules of a connection: a draft being edited and the active version syncs use.
//!
//! Saving a draft never changes what syncs do; activating copies the draft over the active
//! version (the caller validates first: `rules::activate_draft`). Each sync job records the
//! rules it ran with, so earlier versions stay visible in the job history.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Store;
use crate::rules::RuleSet;
use crate::{Error, Result};

/// Which version of a connection's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// Being edited; not used by syncs.
    Draft,
    /// Used by syncs.
    Active,
}

impl RuleState {
    fn as_str(self) -> &'static str {
        match self {
            RuleState::Draft => "draft",
            RuleState::Active => "active",
        }
    }
}

/// A stored rule set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StoredRules {
    /// The connection.
    pub connection_id: String,
    /// Draft or active.
    pub state: RuleState,
    /// Version number: 1 for the first activated set; a draft carries the number it will get.
    pub version: u32,
    /// The rules.
    pub rules: RuleSet,
    /// When it was saved or activated, RFC 3339.
    pub updated_at: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// The draft or active rules of a connection.
    pub fn rules(&self, connection_id: &str, state: RuleState) -> Result<Option<StoredRules>> {
        let row = self
            .conn
            .query_row(
                "SELECT version, rules, updated_at FROM rule_sets WHERE connection_id = ?1 AND state = ?2",
                params![connection_id, state.as_str()],
                |row| {
                    Ok((
                        row.get::<_, u32>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(version, rules, updated_at)| {
            Ok(StoredRules {
                connection_id: connection_id.to_owned(),
                state,
                version,
                rules: serde_json::from_str(&rules)?,
                updated_at,
            })
        })
        .transpose()
    }

    /// Saves `rules` as the connection's draft (replacing an earlier draft).
    pub fn save_draft_rules(&self, connection_id: &str, rules: &RuleSet) -> Result<StoredRules> {
        let active = self.rules(connection_id, RuleState::Active)?;
        let stored = StoredRules {
            connection_id: connection_id.to_owned(),
            state: RuleState::Draft,
            version: active.map_or(1, |a| a.version + 1),
            rules: rules.clone(),
            updated_at: now(),
        };
        self.conn.execute(
            "INSERT INTO rule_sets (connection_id, state, version, rules, updated_at)
             VALUES (?1, 'draft', ?2, ?3, ?4)
             ON CONFLICT (connection_id, state) DO UPDATE SET
                 version = excluded.version, rules = excluded.rules, updated_at = excluded.updated_at",
            params![
                connection_id,
                stored.version,
                serde_json::to_string(rules)?,
                stored.updated_at
            ],
        )?;
        Ok(stored)
    }

    /// Makes the draft the active version and removes the draft. Validate it first.
    pub fn activate_rules(&mut self, connection_id: &str) -> Result<StoredRules> {
        let draft = self
            .rules(connection_id, RuleState::Draft)?
            .ok_or_else(|| Error::NotFound(format!("a draft of the rules of `{connection_id}`")))?;
        let active = StoredRules {
            state: RuleState::Active,
            updated_at: now(),
            ..draft
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO rule_sets (connection_id, state, version, rules, updated_at)
             VALUES (?1, 'active', ?2, ?3, ?4)
             ON CONFLICT (connection_id, state) DO UPDATE SET
                 version = excluded.version, rules = excluded.rules, updated_at = excluded.updated_at",
            params![
                connection_id,
                active.version,
                serde_json::to_string(&active.rules)?,
                active.updated_at
            ],
        )?;
        tx.execute(
            "DELETE FROM rule_sets WHERE connection_id = ?1 AND state = 'draft'",
            params![connection_id],
        )?;
        tx.commit()?;
        Ok(active)
    }

    /// Drops the draft (revert to the active version); false when there was none.
    pub fn discard_draft_rules(&self, connection_id: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM rule_sets WHERE connection_id = ?1 AND state = 'draft'",
            params![connection_id],
        )?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::AdvancedRule;

    fn set(q: &str) -> RuleSet {
        RuleSet {
            basic: Vec::new(),
            advanced: vec![AdvancedRule {
                query: q.to_owned(),
            }],
        }
    }

    #[test]
    fn a_draft_becomes_active_and_versions_count_up() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .add_connection("c1", "Docs", "confluence_cloud")
            .unwrap();
        assert_eq!(store.rules("c1", RuleState::Active).unwrap(), None);
        let draft = store.save_draft_rules("c1", &set("space = A")).unwrap();
        assert_eq!((draft.state, draft.version), (RuleState::Draft, 1));
        // Saving again replaces the draft.
        store.save_draft_rules("c1", &set("space = B")).unwrap();
        assert_eq!(
            store.rules("c1", RuleState::Draft).unwrap().unwrap().rules,
            set("space = B")
        );
        assert_eq!(store.rules("c1", RuleState::Active).unwrap(), None);

        let active = store.activate_rules("c1").unwrap();
        assert_eq!((active.state, active.version), (RuleState::Active, 1));
        assert_eq!(store.rules("c1", RuleState::Draft).unwrap(), None);
        assert_eq!(
            store.rules("c1", RuleState::Active).unwrap().unwrap().rules,
            set("space = B")
        );

        let next = store.save_draft_rules("c1", &set("space = C")).unwrap();
        assert_eq!(next.version, 2);
        assert!(store.discard_draft_rules("c1").unwrap());
        assert!(!store.discard_draft_rules("c1").unwrap());
        assert!(matches!(
            store.activate_rules("c1"),
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            store
                .rules("c1", RuleState::Active)
                .unwrap()
                .unwrap()
                .version,
            1
        );
    }
}
