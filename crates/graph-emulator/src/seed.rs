//! The starting world: tenants, users, groups, sites, drives and files.
//!
//! A seed is plain data (TOML or JSON, same shape) so a test or a person can describe the world
//! they need. The built-in default is documented in the README and its well-known names are
//! exported from [`demo`] so hosts' demo modes can refer to them. This module must never hold
//! runtime state; `store` builds the live world from it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;

/// Well-known names of the default seed.
pub mod demo {
    /// The work tenant (Contoso).
    pub const TENANT_ID: &str = "6f1b9a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
    pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";

    /// The demo user: a work account whose OneDrive is shared with the other work users.
    pub const DEMO_USER: &str = "MeganB@contoso.onmicrosoft.com";
    pub const DEMO_USER_ID: &str = "48d31887-5fad-4d73-a9f5-3c356e68a038";
    pub const DEMO_USER_NAME: &str = "Megan Bowen";
    /// Megan's OneDrive for Business.
    pub const DEMO_DRIVE_ID: &str =
        "b!Megan-OneDrive-5tV1ZUS2cDjU0D5y3ZUvHNyqsfdEiiRHK38AO9sVk5lc3u1KTJ8o";

    /// A colleague who changes things in Megan's drive and in the site library.
    pub const ALEX_USER: &str = "AlexW@contoso.onmicrosoft.com";
    pub const ALEX_USER_ID: &str = "87d349ed-44d7-43e1-9a83-5f2406dee5bd";
    pub const ALEX_DRIVE_ID: &str =
        "b!Alex-OneDrive-0aT4cE7ZkUqW9m1sQ3jV5xYb2nR6pL8oHfGdK4eU1iTzMwNyBv";

    /// A second colleague.
    pub const ADELE_USER: &str = "AdeleV@contoso.onmicrosoft.com";
    pub const ADELE_USER_ID: &str = "5bde3e51-d13b-4db1-9948-fe4b109d11a7";
    pub const ADELE_DRIVE_ID: &str =
        "b!Adele-OneDrive-7qP2wS9dF4gH6jK8lZ1xC3vB5nM0aQeRtYuIoPlKjHgFdSa";

    /// A personal Microsoft account (consumers).
    pub const PERSONAL_USER: &str = "sam.taylor@outlook.com";
    pub const PERSONAL_USER_ID: &str = "4b1f2e3d5c6a7980";
    pub const PERSONAL_USER_NAME: &str = "Sam Taylor";
    pub const PERSONAL_DRIVE_ID: &str = "4b1f2e3d5c6a7980";

    /// The SharePoint site, its document library (a list) and the library's drive.
    pub const SITE_ID: &str = "contoso.sharepoint.com,2c7ad2b6-4f5a-4a5e-8b5b-1c0f7e6d9a31,c1b7e0f1-2a4b-4c3d-9e8f-7a6b5c4d3e2f";
    pub const SITE_NAME: &str = "Marketing";
    pub const SITE_LIST_ID: &str = "9d2c1b0a-8f7e-4d6c-b5a4-3f2e1d0c9b8a";
    pub const SITE_DRIVE_ID: &str =
        "b!Marketing-Documents-tZ4yX8wV2uT6sR0qP4oN8mL2kJ6iH0gF4eD8cB2aZ6yX0";

    /// The Microsoft 365 group and its drive.
    pub const GROUP_ID: &str = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
    pub const GROUP_NAME: &str = "Mark 8 Project Team";
    pub const GROUP_DRIVE_ID: &str =
        "b!Mark8-Project-Team-K3jH7gF1dS5aP9oI3uY7tR1eW5qQ9zX3cV7bN1mL5kJ9h";
}

/// A whole world to start from. Same shape in TOML and JSON.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Application (client) ids allowed to sign in; empty accepts any (see also
    /// `EmulatorConfig::allowed_client_ids`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub tenants: Vec<SeedTenant>,
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    #[serde(default)]
    pub sites: Vec<SeedSite>,
    #[serde(default)]
    pub drives: Vec<SeedDrive>,
}

/// A work/school tenant.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedTenant {
    pub id: String,
    pub domain: String,
    pub display_name: String,
}

/// A person who can sign in.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub id: String,
    pub display_name: String,
    /// Sign-in name (UPN or Microsoft account e-mail).
    pub username: String,
    /// Work/school users name their tenant (id or domain); personal users leave it out.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// A Microsoft 365 group; its drive is a [`SeedDrive`] with `group` set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedGroup {
    pub id: String,
    pub display_name: String,
    pub members: Vec<String>,
}

/// A SharePoint site; its libraries are [`SeedDrive`]s with `site` and `list_id` set.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedSite {
    pub id: String,
    /// URL name (`/sites/{name}`).
    pub name: String,
    pub display_name: String,
    pub members: Vec<String>,
}

/// A drive: a user's OneDrive, a group's drive or a site's document library.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedDrive {
    pub id: String,
    pub name: String,
    /// Exactly one of `owner_user`, `group`, `site`.
    #[serde(default)]
    pub owner_user: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
    /// The document library's list id (site drives).
    #[serde(default)]
    pub list_id: Option<String>,
    /// Further users who may read and change this drive.
    #[serde(default)]
    pub shared_with: Vec<String>,
    #[serde(default)]
    pub items: Vec<SeedItem>,
}

/// A file or folder, by path from the drive's root (`Projects/Plan.txt`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedItem {
    pub path: String,
    /// File content as text; absent with `folder = true`.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub folder: bool,
    /// Creator (user id or username); defaults to the drive's owner or first member.
    #[serde(default)]
    pub by: Option<String>,
}

impl Seed {
    /// Reads a seed file: `.json` as JSON, anything else as TOML.
    pub fn load(path: &Path) -> Result<Seed, EmulatorError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::SeedRead {
            path: path.to_path_buf(),
            source,
        })?;
        let parsed = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            serde_json::from_str(&text).map_err(|e| e.to_string())
        } else {
            toml::from_str(&text).map_err(|e| e.to_string())
        };
        parsed.map_err(|reason| EmulatorError::SeedParse {
            path: path.to_path_buf(),
            reason,
        })
    }
}

fn file(path: &str, content: &str, by: &str) -> SeedItem {
    SeedItem {
        path: path.into(),
        content: Some(content.into()),
        folder: false,
        by: Some(by.into()),
    }
}

fn folder(path: &str, by: &str) -> SeedItem {
    SeedItem {
        path: path.into(),
        content: None,
        folder: true,
        by: Some(by.into()),
    }
}

impl Default for Seed {
    fn default() -> Self {
        use demo::*;
        let user = |id: &str, name: &str, username: &str, tenant: Option<&str>| SeedUser {
            id: id.into(),
            display_name: name.into(),
            username: username.into(),
            tenant: tenant.map(Into::into),
        };
        let work = [DEMO_USER_ID, ALEX_USER_ID, ADELE_USER_ID]
            .map(String::from)
            .to_vec();
        Seed {
            client_ids: vec![],
            tenants: vec![SeedTenant {
                id: TENANT_ID.into(),
                domain: TENANT_DOMAIN.into(),
                display_name: "Contoso".into(),
            }],
            users: vec![
                user(PERSONAL_USER_ID, PERSONAL_USER_NAME, PERSONAL_USER, None),
                user(DEMO_USER_ID, DEMO_USER_NAME, DEMO_USER, Some(TENANT_ID)),
                user(ALEX_USER_ID, "Alex Wilber", ALEX_USER, Some(TENANT_ID)),
                user(ADELE_USER_ID, "Adele Vance", ADELE_USER, Some(TENANT_ID)),
            ],
            groups: vec![SeedGroup {
                id: GROUP_ID.into(),
                display_name: GROUP_NAME.into(),
                members: work.clone(),
            }],
            sites: vec![SeedSite {
                id: SITE_ID.into(),
                name: SITE_NAME.into(),
                display_name: "Marketing".into(),
                members: work,
            }],
            drives: vec![
                SeedDrive {
                    id: PERSONAL_DRIVE_ID.into(),
                    name: "OneDrive".into(),
                    owner_user: Some(PERSONAL_USER_ID.into()),
                    group: None,
                    site: None,
                    list_id: None,
                    shared_with: vec![],
                    items: vec![
                        folder("Documents", PERSONAL_USER_ID),
                        file(
                            "Documents/Budget 2026.txt",
                            "rent 1200\nfood 400\n",
                            PERSONAL_USER_ID,
                        ),
                        folder("Pictures", PERSONAL_USER_ID),
                        file(
                            "Pictures/holiday.txt",
                            "a picture, in words",
                            PERSONAL_USER_ID,
                        ),
                        file("Notes.txt", "remember the milk\n", PERSONAL_USER_ID),
                    ],
                },
                SeedDrive {
                    id: DEMO_DRIVE_ID.into(),
                    name: "OneDrive".into(),
                    owner_user: Some(DEMO_USER_ID.into()),
                    group: None,
                    site: None,
                    list_id: None,
                    shared_with: vec![ALEX_USER_ID.into(), ADELE_USER_ID.into()],
                    items: vec![
                        folder("Projects", DEMO_USER_ID),
                        file("Projects/Q3 Plan.txt", "Goals for Q3\n", DEMO_USER_ID),
                        file(
                            "Projects/Budget.csv",
                            "item,amount\nads,5000\n",
                            DEMO_USER_ID,
                        ),
                        folder("Shared with team", DEMO_USER_ID),
                        file(
                            "Shared with team/Meeting notes.txt",
                            "Agenda\n",
                            ALEX_USER_ID,
                        ),
                        folder("Photos", DEMO_USER_ID),
                        file("Welcome.txt", "Welcome to your OneDrive\n", DEMO_USER_ID),
                    ],
                },
                SeedDrive {
                    id: ALEX_DRIVE_ID.into(),
                    name: "OneDrive".into(),
                    owner_user: Some(ALEX_USER_ID.into()),
                    group: None,
                    site: None,
                    list_id: None,
                    shared_with: vec![],
                    items: vec![file("Drafts.txt", "draft\n", ALEX_USER_ID)],
                },
                SeedDrive {
                    id: ADELE_DRIVE_ID.into(),
                    name: "OneDrive".into(),
                    owner_user: Some(ADELE_USER_ID.into()),
                    group: None,
                    site: None,
                    list_id: None,
                    shared_with: vec![],
                    items: vec![],
                },
                SeedDrive {
                    id: SITE_DRIVE_ID.into(),
                    name: "Documents".into(),
                    owner_user: None,
                    group: None,
                    site: Some(SITE_ID.into()),
                    list_id: Some(SITE_LIST_ID.into()),
                    shared_with: vec![],
                    items: vec![
                        folder("Campaigns", ALEX_USER_ID),
                        file("Campaigns/Spring launch.txt", "Launch plan\n", ALEX_USER_ID),
                        folder("Brand", ADELE_USER_ID),
                        file("Brand/Guidelines.txt", "Use the blue logo\n", ADELE_USER_ID),
                    ],
                },
                SeedDrive {
                    id: GROUP_DRIVE_ID.into(),
                    name: "Documents".into(),
                    owner_user: None,
                    group: Some(GROUP_ID.into()),
                    site: None,
                    list_id: None,
                    shared_with: vec![],
                    items: vec![
                        folder("General", DEMO_USER_ID),
                        file("General/Roadmap.txt", "Mark 8 roadmap\n", DEMO_USER_ID),
                    ],
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_round_trips_through_toml_and_json() {
        let seed = Seed::default();
        let toml_text = toml::to_string(&seed).expect("toml");
        let back: Seed = toml::from_str(&toml_text).expect("parse toml");
        assert_eq!(back, seed);
        let json = serde_json::to_string(&seed).expect("json");
        let back: Seed = serde_json::from_str(&json).expect("parse json");
        assert_eq!(back, seed);
    }
}
