//! Graph's JSON, as Microsoft sends it: users, drives, drive items with their facets, delta pages,
//! socketIo subscriptions and error bodies (`docs/PROTOCOL.md §2.2`, `§3.1`–`§3.3`, `§4.1`).
//!
//! Only serde types live here; logic lives in the modules that use them. Parsing is lenient
//! (unknown fields ignored, most fields optional) because personal and business accounts omit
//! different fields. These types must never be shared with the Graph emulator, and they hold no
//! tokens except the notification URL, which callers wrap before logging.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
}

/// One identity in an identity set: who, by id and name (an email and the rest are skipped:
/// nothing reads them, and delta parses one per item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Who did something: a user, an application, a device (any may be missing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySet {
    #[serde(default)]
    pub user: Option<Identity>,
    #[serde(default)]
    pub application: Option<Identity>,
    #[serde(default)]
    pub device: Option<Identity>,
}

impl IdentitySet {
    /// The best display name: the user's, else the application's, else the device's.
    pub fn display_name(&self) -> Option<&str> {
        [&self.user, &self.application, &self.device]
            .into_iter()
            .flatten()
            .find_map(|i| i.display_name.as_deref().filter(|n| !n.is_empty()))
    }
}

/// `GET /drives/{id}` and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drive {
    pub id: String,
    /// `personal`, `business` or `documentLibrary`.
    #[serde(default)]
    pub drive_type: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub owner: Option<IdentitySet>,
}

/// Where an item sits. `path` is often absent in delta results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReference {
    #[serde(default)]
    pub drive_id: Option<String>,
    #[serde(default)]
    pub drive_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// e.g. `/drive/root:/Finance`.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub site_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacet {
    #[serde(default)]
    pub mime_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderFacet {
    #[serde(default)]
    pub child_count: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedFacet {
    #[serde(default)]
    pub state: Option<String>,
}

/// Present (as `{}`) on the drive's root item only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFacet {}

/// A file or folder, in its latest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    pub id: String,
    /// Absent on business deletes: use the local item index.
    #[serde(default)]
    pub name: Option<String>,
    /// Changes with anything (including a child's change, for folders).
    #[serde(default)]
    pub e_tag: Option<String>,
    /// Changes with content only; absent on folders and on personal deletes.
    #[serde(default)]
    pub c_tag: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub created_by: Option<IdentitySet>,
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(default)]
    pub parent_reference: Option<ItemReference>,
    #[serde(default)]
    pub file: Option<FileFacet>,
    #[serde(default)]
    pub folder: Option<FolderFacet>,
    #[serde(default)]
    pub deleted: Option<DeletedFacet>,
    #[serde(default)]
    pub root: Option<RootFacet>,
}

impl DriveItem {
    pub fn is_folder(&self) -> bool {
        self.folder.is_some() || self.root.is_some()
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    pub fn is_root(&self) -> bool {
        self.root.is_some()
    }

    pub fn parent_id(&self) -> Option<&str> {
        self.parent_reference.as_ref()?.id.as_deref()
    }

    pub fn drive_id(&self) -> Option<&str> {
        self.parent_reference.as_ref()?.drive_id.as_deref()
    }
}

/// One item of a delta page, as far as change detection reads it. A page holds hundreds of
/// items and a resync a whole drive's, so only these fields are parsed: the rest of Graph's
/// driveItem (sizes, hashes, `createdBy`, `createdDateTime`, `fileSystemInfo`...) is skipped
/// without allocating.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaEntry {
    pub id: String,
    /// Absent on business deletes: use the local item index.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub e_tag: Option<String>,
    #[serde(default)]
    pub c_tag: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(default)]
    pub parent_reference: Option<DeltaParent>,
    /// The facets are read for their presence only.
    #[serde(default)]
    pub folder: Option<Facet>,
    #[serde(default)]
    pub deleted: Option<Facet>,
    #[serde(default)]
    pub root: Option<Facet>,
}

/// A facet whose contents delta does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facet;

impl<'de> Deserialize<'de> for Facet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Facet)
    }
}

/// `parentReference` of a delta item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaParent {
    #[serde(default)]
    pub drive_id: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    /// e.g. `/drive/root:/Finance`; often absent in delta results.
    #[serde(default)]
    pub path: Option<String>,
}

impl DeltaEntry {
    pub fn is_folder(&self) -> bool {
        self.folder.is_some() || self.root.is_some()
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.is_some()
    }

    pub fn is_root(&self) -> bool {
        self.root.is_some()
    }
}

/// One page of `.../delta`. Exactly one of the links is present on a well-formed page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeltaResponse {
    #[serde(default)]
    pub value: Vec<DeltaEntry>,
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    pub delta_link: Option<String>,
}

/// `GET .../subscriptions/socketIo`. The notification URL carries a token: never log it raw.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketIoSubscription {
    #[serde(default)]
    pub id: Option<String>,
    pub notification_url: String,
    #[serde(default)]
    pub expiration_date_time: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SocketIoSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIoSubscription")
            .field("id", &self.id)
            .field(
                "notification_url",
                &crate::transport::redact::redact_url(&self.notification_url),
            )
            .field("expiration_date_time", &self.expiration_date_time)
            .finish()
    }
}

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

/// Graph's error detail; `innerError` may nest further inner errors (with or without codes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, alias = "innererror")]
    pub inner_error: Option<Box<ErrorDetail>>,
}

impl ErrorDetail {
    /// The codes from the outermost to the innermost.
    pub fn codes(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(d) = cur {
            if let Some(c) = d.code.as_deref() {
                out.push(c);
            }
            cur = d.inner_error.as_deref();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped after Microsoft's documented delta response for a personal OneDrive.
    const DELTA_PERSONAL: &str = r##"{
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)",
      "@odata.nextLink": "https://graph.microsoft.com/v1.0/me/drive/root/delta(token='MzslMjM0OTsyNA')",
      "value": [
        {
          "@odata.type": "#microsoft.graph.driveItem",
          "createdDateTime": "2017-05-05T22:35:11Z",
          "cTag": "adDpFQzIyODFBNUQ2MzlFODEhMTAxLjYzNjMwNTYxNjg1NjIzMDAwMA",
          "eTag": "aRUMyMjgxQTVENjM5RTgxITEwMS4x",
          "id": "EC2281A5D639E81!101",
          "lastModifiedDateTime": "2017-05-05T22:35:11Z",
          "name": "root",
          "size": 1073,
          "webUrl": "https://onedrive.live.com/?cid=ec2281a5d639e81",
          "createdBy": {"user": {"displayName": "Megan Bowen", "id": "ec2281a5d639e81"}},
          "lastModifiedBy": {"user": {"displayName": "Megan Bowen", "id": "ec2281a5d639e81"}},
          "parentReference": {"driveId": "ec2281a5d639e81", "driveType": "personal"},
          "fileSystemInfo": {"createdDateTime": "2017-05-05T22:35:11Z"},
          "folder": {"childCount": 4, "view": {"viewType": "thumbnails"}},
          "root": {}
        },
        {
          "createdDateTime": "2017-05-06T08:01:00Z",
          "cTag": "aYzpFQzIyODFBNUQ2MzlFODEhMTA1LjI1Nw",
          "eTag": "aRUMyMjgxQTVENjM5RTgxITEwNS4y",
          "id": "EC2281A5D639E81!105",
          "lastModifiedDateTime": "2017-05-06T08:02:11Z",
          "name": "Budget.xlsx",
          "size": 2048,
          "webUrl": "https://1drv.ms/x/s!AoHp",
          "lastModifiedBy": {
            "application": {"displayName": "OneDrive", "id": "481710a4"},
            "user": {"displayName": "Alex Wilber", "id": "1234"}
          },
          "parentReference": {"driveId": "ec2281a5d639e81", "id": "EC2281A5D639E81!101", "path": "/drive/root:"},
          "file": {"mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "hashes": {"sha1Hash": "ABC"}}
        },
        {
          "id": "EC2281A5D639E81!106",
          "name": "old.txt",
          "eTag": "aRUMy",
          "parentReference": {"driveId": "ec2281a5d639e81", "id": "EC2281A5D639E81!101"},
          "deleted": {},
          "file": {}
        }
      ]
    }"##;

    // A business delete: no name, a deleted state, and a final page with a deltaLink.
    const DELTA_BUSINESS_LAST: &str = r#"{
      "@odata.deltaLink": "https://graph.microsoft.com/v1.0/drives/b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME-Fepo75dTf9vQKfeRblBZjoSQrd7/root/delta?token=aTE09NjM4",
      "value": [
        {
          "id": "01BYE5RZZ6FUE5272C5JCY3L7CLZ7XOUYM",
          "parentReference": {"driveType": "business", "driveId": "b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME-Fepo75dTf9vQKfeRblBZjoSQrd7", "id": "01BYE5RZ56Y2GOVW7725BZO354PWSELRRZ"},
          "deleted": {"state": "deleted"},
          "file": {}
        }
      ]
    }"#;

    #[test]
    fn personal_delta_page_parses_with_facets() {
        let page: DeltaResponse = serde_json::from_str(DELTA_PERSONAL).unwrap();
        assert!(page.next_link.as_deref().unwrap().contains("delta(token="));
        assert!(page.delta_link.is_none());
        assert_eq!(page.value.len(), 3);
        let root = &page.value[0];
        assert!(root.is_root() && root.is_folder());
        let file = &page.value[1];
        assert!(!file.is_folder());
        assert_eq!(file.name.as_deref(), Some("Budget.xlsx"));
        let parent = file.parent_reference.as_ref().unwrap();
        assert_eq!(parent.id.as_deref(), Some("EC2281A5D639E81!101"));
        assert_eq!(parent.drive_id.as_deref(), Some("ec2281a5d639e81"));
        assert_eq!(
            file.last_modified_by.as_ref().unwrap().display_name(),
            Some("Alex Wilber")
        );
        assert_eq!(
            file.last_modified_date_time.unwrap().to_rfc3339(),
            "2017-05-06T08:02:11+00:00"
        );
        let deleted = &page.value[2];
        assert!(deleted.is_deleted());
        assert!(deleted.c_tag.is_none());
    }

    #[test]
    fn business_delete_without_name_parses() {
        let page: DeltaResponse = serde_json::from_str(DELTA_BUSINESS_LAST).unwrap();
        assert!(page.next_link.is_none());
        assert!(page.delta_link.unwrap().contains("token="));
        let item = &page.value[0];
        assert!(item.name.is_none() && item.is_deleted() && !item.is_folder());
    }

    /// Fields delta does not read are skipped unparsed: an unexpected shape there (a size as
    /// text, a facet with new members) costs no page.
    #[test]
    fn delta_entries_skip_what_delta_does_not_read() {
        let entry: DeltaEntry = serde_json::from_str(
            r#"{"id": "01A", "size": "big", "createdBy": 7, "createdDateTime": "yesterday",
                "file": {"hashes": {"quickXorHash": "x"}, "mimeType": null},
                "folder": {"childCount": "many", "view": {}},
                "lastModifiedBy": {"user": {"id": "u", "displayName": "Olga", "email": 3}},
                "parentReference": {"driveType": 1, "id": "01P", "siteId": []}}"#,
        )
        .unwrap();
        assert!(entry.is_folder() && !entry.is_root() && !entry.is_deleted());
        assert_eq!(entry.parent_reference.unwrap().id.as_deref(), Some("01P"));
        assert_eq!(entry.last_modified_by.unwrap().display_name(), Some("Olga"));
    }

    #[test]
    fn socket_io_subscription_with_and_without_expiry() {
        // The seed document's example: no expirationDateTime.
        let seed = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity","id":"opaqueSubscriptionId","notificationUrl":"https://f3hb0mpua.svc.ms/zbaehwg/callback?snthgk=1ff3-2345672zz831837523"}"#;
        let s: SocketIoSubscription = serde_json::from_str(seed).unwrap();
        assert_eq!(s.id.as_deref(), Some("opaqueSubscriptionId"));
        assert!(s.expiration_date_time.is_none());
        let real = r#"{"id":"x","notificationUrl":"https://h.svc.ms/notifications?token=SECRETTOKEN&applicationId=a","expirationDateTime":"2026-11-24T07:00:00Z"}"#;
        let s: SocketIoSubscription = serde_json::from_str(real).unwrap();
        assert!(s.expiration_date_time.is_some());
        assert!(!format!("{s:?}").contains("SECRETTOKEN"));
    }

    #[test]
    fn nested_error_codes_in_order() {
        let body = r#"{"error":{"code":"accessDenied","message":"Access denied","innerError":{"code":"policyDenied","innerError":{"code":"deeper","request-id":"r","date":"2026-01-01T00:00:00"}}}}"#;
        let e: ErrorResponse = serde_json::from_str(body).unwrap();
        assert_eq!(
            e.error.codes(),
            vec!["accessDenied", "policyDenied", "deeper"]
        );
        let plain = r#"{"error":{"code":"itemNotFound","message":"The resource could not be found.","innerError":{"date":"2026-11-24T05:55:00","request-id":"9b7f","client-request-id":"9b7f"}}}"#;
        let e: ErrorResponse = serde_json::from_str(plain).unwrap();
        assert_eq!(e.error.codes(), vec!["itemNotFound"]);
    }

    #[test]
    fn me_parses() {
        let me = r#"{"@odata.context":"x","businessPhones":[],"displayName":"Megan Bowen","givenName":"Megan","jobTitle":null,"mail":"MeganB@contoso.com","userPrincipalName":"MeganB@contoso.com","id":"48d31887-5fad-4d73-a9f5-3c356e68a038"}"#;
        let u: User = serde_json::from_str(me).unwrap();
        assert_eq!(u.display_name.as_deref(), Some("Megan Bowen"));
        assert_eq!(u.id, "48d31887-5fad-4d73-a9f5-3c356e68a038");
    }
}
