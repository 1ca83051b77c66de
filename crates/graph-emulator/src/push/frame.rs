//! The `notification` event's argument, shaped like the real frame (docs/PROTOCOL.md §2.7): a JSON
//! *string* holding `{"value":[{subscriptionId, clientState, expirationDateTime, resource,
//! tenantId, siteUrl, webId}]}`, a system-managed SharePoint webhook relayed over socket.io. It
//! has no `changeType` and says nothing about what changed. The GUIDs are stable per drive. This
//! module must never put anything secret (tokens) into a frame.

use chrono::{DateTime, Timelike as _, Utc};
use serde_json::json;

use super::Subscription;
use crate::identity::CONSUMERS_TENANT_ID;
use crate::store::{DriveOwner, DriveType, World, guid_of};

/// What a frame says about a drive, apart from the subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveFacts {
    pub tenant_id: String,
    pub site_url: String,
    pub web_id: String,
    pub resource: String,
    pub client_state: String,
}

/// The frame facts of a drive (None if it is gone).
pub fn drive_facts(w: &World, drive: &str) -> Option<DriveFacts> {
    let d = w.drives.get(drive)?;
    let tenant_of = |u: &str| w.users.get(u).and_then(|u| u.tenant.clone());
    let tenant = match &d.owner {
        DriveOwner::User(u) => tenant_of(u),
        _ => d.members.iter().find_map(|u| tenant_of(u)),
    };
    let site_url = if d.drive_type == DriveType::Personal {
        format!("/personal/{}", d.id.to_ascii_lowercase())
    } else {
        // The site (web) that holds the library: the web path without the library's segment.
        let path = d.web_path.trim_end_matches('/');
        path.rsplit_once('/')
            .map(|(site, _)| site.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| path.to_string())
    };
    Some(DriveFacts {
        tenant_id: tenant.unwrap_or_else(|| CONSUMERS_TENANT_ID.to_string()),
        web_id: guid_of(&format!("web:{site_url}")).to_ascii_lowercase(),
        resource: guid_of(&format!("list:{}", d.id)).to_ascii_lowercase(),
        client_state: format!("system-managed:{}", guid_of(&format!("webhook:{}", d.id))),
        site_url,
    })
}

/// `2026-05-11T21:52:27.5200000Z`: seven fractional digits, as SharePoint writes them.
pub fn date7(d: &DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        d.format("%Y-%m-%dT%H:%M:%S"),
        d.nanosecond() % 1_000_000_000 / 100
    )
}

/// The event's argument: JSON text, to be sent as a string.
pub fn notification_text(sub: &Subscription, facts: &DriveFacts) -> String {
    json!({
        "value": [{
            "subscriptionId": sub.id,
            "clientState": facts.client_state,
            "expirationDateTime": date7(&sub.expires),
            "resource": facts.resource,
            "tenantId": facts.tenant_id,
            "siteUrl": facts.site_url,
            "webId": facts.web_id,
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{Seed, demo};

    #[test]
    fn dates_have_seven_fractional_digits() {
        let d = DateTime::parse_from_rfc3339("2026-05-11T21:52:27.52Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(date7(&d), "2026-05-11T21:52:27.5200000Z");
    }

    #[test]
    fn facts_follow_the_drive_kind() {
        let w = World::from_seed(&Seed::default()).unwrap();
        let megan = drive_facts(&w, demo::DEMO_DRIVE_ID).unwrap();
        assert_eq!(megan.tenant_id, demo::TENANT_ID);
        assert!(megan.site_url.starts_with("/personal/"), "{megan:?}");
        assert!(!megan.site_url.ends_with("/Documents"), "{megan:?}");
        assert!(megan.client_state.starts_with("system-managed:"));
        let guid = megan.client_state.trim_start_matches("system-managed:");
        assert_eq!(guid.len(), 36);
        assert_eq!(guid, guid.to_ascii_uppercase());
        assert_eq!(megan.resource, megan.resource.to_ascii_lowercase());
        let site = drive_facts(&w, demo::SITE_DRIVE_ID).unwrap();
        assert!(site.site_url.starts_with("/sites/"), "{site:?}");
        assert_ne!(site.resource, megan.resource);
        let personal = w
            .drives
            .values()
            .find(|d| d.drive_type == DriveType::Personal)
            .unwrap();
        let p = drive_facts(&w, &personal.id).unwrap();
        assert_eq!(p.tenant_id, CONSUMERS_TENANT_ID);
        assert_eq!(
            p.site_url,
            format!("/personal/{}", personal.id.to_ascii_lowercase())
        );
    }
}
