//! Who is left when a space permission and several read restrictions all apply: a pure
//! function over principal sets, with group members supplied by the caller.

use std::collections::{BTreeSet, HashMap, HashSet};

/// Who one permission or restriction admits: everybody, or some users and groups (identities in
/// the data source's [`super::Dialect`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// Everybody (anonymous access to the space).
    pub everyone: bool,
    /// User identities.
    pub users: BTreeSet<String>,
    /// Group identities.
    pub groups: BTreeSet<String>,
}

impl Grant {
    /// True when it names nobody (a restriction that is not there: the item inherits).
    pub fn is_empty(&self) -> bool {
        !self.everyone && self.users.is_empty() && self.groups.is_empty()
    }
}

/// The result of intersecting grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intersection {
    /// Everybody may read.
    Everyone,
    /// These identities (possibly none).
    Identities(BTreeSet<String>),
}

/// The groups whose members [`intersect`] needs: none when a single grant decides, else every
/// group that is not named by all the restricting grants.
pub(crate) fn groups_to_expand(grants: &[&Grant]) -> BTreeSet<String> {
    let restricting: Vec<&&Grant> = grants.iter().filter(|g| !g.everyone).collect();
    if restricting.len() < 2 {
        return BTreeSet::new();
    }
    let kept = common_groups(&restricting);
    restricting
        .iter()
        .flat_map(|g| g.groups.iter())
        .filter(|g| !kept.contains(*g))
        .cloned()
        .collect()
}

fn common_groups(restricting: &[&&Grant]) -> BTreeSet<String> {
    let mut kept = restricting[0].groups.clone();
    for g in &restricting[1..] {
        kept.retain(|x| g.groups.contains(x));
    }
    kept
}

/// The identities admitted by every grant. A group named by every restricting grant is kept as
/// a group; everyone else is admitted user by user, through direct grants or memberships
/// (`members`: group identity to user identities, for every group of [`groups_to_expand`]).
pub(crate) fn intersect(
    grants: &[&Grant],
    members: &HashMap<String, HashSet<String>>,
) -> Intersection {
    let restricting: Vec<&&Grant> = grants.iter().filter(|g| !g.everyone).collect();
    match restricting.len() {
        0 => return Intersection::Everyone,
        1 => {
            let g = restricting[0];
            return Intersection::Identities(g.users.iter().chain(&g.groups).cloned().collect());
        }
        _ => {}
    }
    let kept = common_groups(&restricting);
    let empty = HashSet::new();
    let members_of = |group: &str| members.get(group).unwrap_or(&empty);
    // Kept groups are not expanded: their members are admitted by the group identity itself,
    // so only users outside them need checking, through direct grants and the other groups.
    let admits = |grant: &Grant, user: &str| {
        grant.users.contains(user)
            || grant
                .groups
                .iter()
                .any(|g| !kept.contains(g) && members_of(g).contains(user))
    };
    // Candidates come from the smallest grant: whoever is admitted must be admitted there.
    let size = |g: &Grant| {
        g.users.len()
            + g.groups
                .iter()
                .filter(|x| !kept.contains(*x))
                .map(|x| members_of(x).len())
                .sum::<usize>()
    };
    let smallest = restricting
        .iter()
        .min_by_key(|g| size(g))
        .map(|g| **g)
        .unwrap_or(restricting[0]);
    let mut candidates: BTreeSet<&str> = smallest.users.iter().map(String::as_str).collect();
    for g in smallest.groups.iter().filter(|g| !kept.contains(*g)) {
        candidates.extend(members_of(g).iter().map(String::as_str));
    }
    let mut out: BTreeSet<String> = kept.clone();
    for user in candidates {
        if restricting.iter().all(|g| admits(g, user)) {
            out.insert(user.to_owned());
        }
    }
    Intersection::Identities(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(users: &[&str], groups: &[&str]) -> Grant {
        Grant {
            everyone: false,
            users: users.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ids(i: Intersection) -> Vec<String> {
        match i {
            Intersection::Identities(s) => s.into_iter().collect(),
            Intersection::Everyone => vec!["*".into()],
        }
    }

    fn members() -> HashMap<String, HashSet<String>> {
        let mut m = HashMap::new();
        m.insert(
            "group:all".to_owned(),
            ["user:a", "user:b", "user:c"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        m.insert(
            "group:sre".to_owned(),
            ["user:b", "user:c"].iter().map(|s| s.to_string()).collect(),
        );
        m
    }

    #[test]
    fn one_grant_decides_alone_and_everyone_is_neutral() {
        let anon = Grant {
            everyone: true,
            ..Grant::default()
        };
        assert_eq!(ids(intersect(&[&anon], &HashMap::new())), ["*"]);
        let r = grant(&["user:a"], &["group:sre"]);
        assert_eq!(
            ids(intersect(&[&anon, &r], &HashMap::new())),
            ["group:sre", "user:a"]
        );
        assert!(groups_to_expand(&[&anon, &r]).is_empty());
    }

    #[test]
    fn membership_is_expanded_where_grants_disagree() {
        // Space: everybody in `all`; parent restricted to `sre`; child to user c and user a.
        let space = grant(&[], &["group:all"]);
        let parent = grant(&[], &["group:sre"]);
        let child = grant(&["user:c", "user:a"], &[]);
        let grants = [&space, &parent, &child];
        assert_eq!(
            groups_to_expand(&grants).into_iter().collect::<Vec<_>>(),
            ["group:all", "group:sre"]
        );
        // The reference's plain string intersection would give nobody here.
        assert_eq!(ids(intersect(&grants, &members())), ["user:c"]);
    }

    #[test]
    fn a_group_named_everywhere_is_kept_and_its_members_not_repeated() {
        let space = grant(&["user:a"], &["group:sre"]);
        let page = grant(&["user:b", "user:a"], &["group:sre"]);
        assert_eq!(
            ids(intersect(&[&space, &page], &members())),
            ["group:sre", "user:a"]
        );
    }

    #[test]
    fn disjoint_grants_leave_nobody() {
        let space = grant(&["user:a"], &[]);
        let page = grant(&["user:b"], &[]);
        assert!(ids(intersect(&[&space, &page], &members())).is_empty());
    }
}
