//! Who may do what: the one table of each role's rights. Tokens (machines) and, later,
//! people have one role; every admin route names the permission it needs in the server's
//! route table, and a guard there refuses the others before the handler runs. The table is
//! documented in `docs/security.md`; a test calls every admin route with every role.

use std::fmt;

/// A caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads everything an operator may read; changes nothing.
    Auditor,
    /// The data protection officer: acts on rights requests (a person's consents are erased
    /// through their request), retention, marketing and scans.
    Dpo,
    /// A mailing system: records marketing choices and asks whether it may send.
    Marketing,
    /// Everything: also applies registries, signs checkpoints, erases a consent record
    /// directly, manages tokens, users and settings.
    Admin,
}

/// Something a role may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read the admin API: sites, versions, consents, requests, the register.
    Read,
    /// Act on rights requests: notes, start, extend, complete, reject, verify by hand.
    Requests,
    /// Plan and run retention, set holds.
    Retention,
    /// Manage marketing: suppressions, imports, the preferences of a person.
    Marketing,
    /// Record marketing choices and check recipients before a campaign.
    RecordMarketing,
    /// Queue scans of a site's pages and schedule periodic scans.
    Scans,
    /// Apply a new registry (new policy versions).
    ApplyRegistry,
    /// Sign a checkpoint of the ledger now.
    SignCheckpoint,
    /// Erase a consent record outside any rights request.
    EraseConsent,
    /// Create, list and revoke API tokens.
    ManageTokens,
    /// Create and change accounts of people.
    ManageUsers,
    /// Change the server's settings.
    Settings,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Auditor, Role::Dpo, Role::Marketing, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Auditor => "auditor",
            Role::Dpo => "dpo",
            Role::Marketing => "marketing",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role has `p`, by [`RIGHTS`].
    pub fn may(self, p: Permission) -> bool {
        RIGHTS
            .iter()
            .any(|(perm, roles)| *perm == p && roles.contains(&self))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::Read,
        Permission::Requests,
        Permission::Retention,
        Permission::Marketing,
        Permission::RecordMarketing,
        Permission::Scans,
        Permission::ApplyRegistry,
        Permission::SignCheckpoint,
        Permission::EraseConsent,
        Permission::ManageTokens,
        Permission::ManageUsers,
        Permission::Settings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Requests => "requests",
            Permission::Retention => "retention",
            Permission::Marketing => "marketing",
            Permission::RecordMarketing => "record_marketing",
            Permission::Scans => "scans",
            Permission::ApplyRegistry => "apply_registry",
            Permission::SignCheckpoint => "sign_checkpoint",
            Permission::EraseConsent => "erase_consent",
            Permission::ManageTokens => "manage_tokens",
            Permission::ManageUsers => "manage_users",
            Permission::Settings => "settings",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use Permission as P;
use Role::{Admin as A, Auditor as Au, Dpo as D, Marketing as M};

/// The rights of each role, one row per permission.
pub const RIGHTS: &[(Permission, &[Role])] = &[
    (P::Read, &[Au, D, A]),
    (P::Requests, &[D, A]),
    (P::Retention, &[D, A]),
    (P::Marketing, &[D, A]),
    (P::RecordMarketing, &[M, A]),
    (P::Scans, &[D, A]),
    (P::ApplyRegistry, &[A]),
    (P::SignCheckpoint, &[A]),
    (P::EraseConsent, &[A]),
    (P::ManageTokens, &[A]),
    (P::ManageUsers, &[A]),
    (P::Settings, &[A]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_has_one_row_and_admin_has_all() {
        for p in Permission::ALL {
            assert_eq!(RIGHTS.iter().filter(|(q, _)| *q == p).count(), 1, "{p}");
            assert!(Role::Admin.may(p), "{p}");
        }
        assert!(!Role::Auditor.may(Permission::Requests));
        assert!(!Role::Dpo.may(Permission::ApplyRegistry));
        assert!(!Role::Dpo.may(Permission::EraseConsent));
        assert!(!Role::Dpo.may(Permission::SignCheckpoint));
        assert!(!Role::Marketing.may(Permission::Read));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
