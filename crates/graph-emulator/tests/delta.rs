//! Delta semantics: token=latest, deltaLinks in `delta(token='...')` form under every drive form,
//! latest state once per item with parents first, folder eTag noise, paging with nextLinks,
//! personal vs business deletes, and 410 resync after invalidation.

mod common;

use std::collections::HashSet;

use common::*;
use graph_emulator::seed::demo;
use graph_emulator::{EmulatorConfig, ResyncCode};
use serde_json::Value;

/// Follows nextLinks from `url` until a deltaLink; returns all items and the deltaLink.
async fn drain(
    emu: &graph_emulator::Emulator,
    token: &str,
    url: &str,
) -> (Vec<Value>, String, usize) {
    let mut url = url.to_string();
    let mut items = vec![];
    let mut pages = 0;
    loop {
        let (s, _, page) = get(emu, token, &url).await;
        assert_eq!(s, 200, "{page}");
        pages += 1;
        items.extend(page["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = page["@odata.nextLink"].as_str() {
            assert!(page.get("@odata.deltaLink").is_none());
            url = next.to_string();
            continue;
        }
        let link = page["@odata.deltaLink"]
            .as_str()
            .expect("a deltaLink ends the round")
            .to_string();
        return (items, link, pages);
    }
}

#[tokio::test]
async fn latest_then_changes_in_latest_state_with_parents_first() {
    let emu = start().await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    for form in [
        "/me/drive/root/delta?token=latest".to_string(),
        format!("/drives/{}/root/delta?token=latest", demo::DEMO_DRIVE_ID),
        format!("/groups/{}/drive/root/delta?token=latest", demo::GROUP_ID),
        format!(
            "/sites/{}/lists/{}/drive/root/delta?token=latest",
            demo::SITE_ID,
            demo::SITE_LIST_ID
        ),
    ] {
        let (s, _, page) = get(&emu, &t, &form).await;
        assert_eq!(s, 200, "{form}: {page}");
        assert_eq!(page["value"].as_array().unwrap().len(), 0);
        let link = page["@odata.deltaLink"].as_str().unwrap();
        assert!(link.contains("/root/delta(token='"), "{link}");
    }
    let (_, _, page) = get(&emu, &t, "/me/drive/root/delta?token=latest").await;
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    // A link for a /me/drive request points at /drives/{id}/....
    assert!(link.starts_with(&format!(
        "{}/drives/{}/",
        emu.graph_url(),
        demo::DEMO_DRIVE_ID
    )));

    // Three edits of one new file in a new folder, by Alex: one item, in its latest state.
    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "Reports/r.txt", "1")
        .unwrap();
    emu.edit(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "Reports/r.txt", "22")
        .unwrap();
    emu.edit(
        demo::ADELE_USER,
        demo::DEMO_DRIVE_ID,
        "Reports/r.txt",
        "333",
    )
    .unwrap();
    let (_, _, page) = get(&emu, &t, &link).await;
    insta::assert_json_snapshot!(
        "delta_page_after_changes",
        normalize(&page, &emu.authority_url())
    );
    let (items, next_link, _) = drain(&emu, &t, &link).await;
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "r.txt").count(),
        1,
        "{names:?}"
    );
    let file = items.iter().find(|i| i["name"] == "r.txt").unwrap();
    assert_eq!(file["size"], 3);
    assert_eq!(file["lastModifiedBy"]["user"]["displayName"], "Adele Vance");
    assert!(
        file["parentReference"].get("path").is_none(),
        "delta items carry no path"
    );
    // The root and the new folder come before the file; the folder's eTag changed too.
    let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(
        pos("root") < pos("Reports") && pos("Reports") < pos("r.txt"),
        "{names:?}"
    );

    // Nothing changed since: an empty page with a new deltaLink.
    let (items, _, _) = drain(&emu, &t, &next_link).await;
    assert!(items.is_empty(), "{items:?}");
}

#[tokio::test]
async fn full_enumeration_pages_without_gaps_or_repeats() {
    let emu = start_with(EmulatorConfig::for_tests().with_delta_page_size(3)).await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (items, link, pages) = drain(
        &emu,
        &t,
        &format!("{}/me/drive/root/delta", emu.graph_url()),
    )
    .await;
    assert_eq!(pages, 3, "8 items in pages of 3");
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let unique: HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    assert_eq!(ids.len(), 8, "root, 3 folders, 4 files");
    assert!(items[0]["root"].is_object());
    assert!(link.contains("delta(token='"));
    // A change during paging shows up in the next round, not lost.
    let (_, _, first) = get(&emu, &t, "/me/drive/root/delta").await;
    let next = first["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("delta(token='"), "{next}");
    emu.upload(demo::ALEX_USER, demo::DEMO_DRIVE_ID, "during.txt", "x")
        .unwrap();
    let (_, after, _) = drain(&emu, &t, &next).await;
    let (items, _, _) = drain(&emu, &t, &after).await;
    assert!(items.iter().any(|i| i["name"] == "during.txt"));
}

#[tokio::test]
async fn deleted_items_differ_between_personal_and_business() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (sam, _) = emu.issue_tokens(demo::PERSONAL_USER).unwrap();
    let (_, _, b) = get(&emu, &megan, "/me/drive/root/delta?token=latest").await;
    let (_, _, p) = get(&emu, &sam, "/me/drive/root/delta?token=latest").await;
    let b_id = emu
        .delete(demo::DEMO_USER, demo::DEMO_DRIVE_ID, "Welcome.txt")
        .unwrap();
    let p_id = emu
        .delete(demo::PERSONAL_USER, demo::PERSONAL_DRIVE_ID, "Notes.txt")
        .unwrap();
    let (items, _, _) = drain(&emu, &megan, b["@odata.deltaLink"].as_str().unwrap()).await;
    let gone = items
        .iter()
        .find(|i| i["id"] == b_id.as_str())
        .expect("business delete reported");
    assert_eq!(gone["deleted"]["state"], "deleted");
    assert!(gone.get("name").is_none(), "business deletes omit the name");
    insta::assert_json_snapshot!(
        "business_deleted_item",
        normalize(gone, &emu.authority_url())
    );
    let (items, _, _) = drain(&emu, &sam, p["@odata.deltaLink"].as_str().unwrap()).await;
    let gone = items
        .iter()
        .find(|i| i["id"] == p_id.as_str())
        .expect("personal delete reported");
    assert_eq!(gone["name"], "Notes.txt");
    assert!(gone.get("size").is_none() && gone.get("cTag").is_none());
    insta::assert_json_snapshot!(
        "personal_deleted_item",
        normalize(gone, &emu.authority_url())
    );
}

#[tokio::test]
async fn invalidated_tokens_answer_410_with_location() {
    let emu = start_with(EmulatorConfig::for_tests().with_delta_page_size(2)).await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (_, _, page) = get(&emu, &t, "/me/drive/root/delta?token=latest").await;
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    let (_, _, first) = get(&emu, &t, "/me/drive/root/delta").await;
    let next = first["@odata.nextLink"].as_str().unwrap().to_string();
    emu.invalidate_delta_tokens(
        Some(demo::DEMO_DRIVE_ID),
        ResyncCode::ResyncChangesApplyDifferences,
    )
    .unwrap();
    for url in [&link, &next] {
        let (s, h, e) = get(&emu, &t, url).await;
        assert_eq!(s, 410, "{e}");
        assert_eq!(e["error"]["code"], "resyncChangesApplyDifferences");
        let loc = h["location"].to_str().unwrap();
        assert_eq!(
            loc,
            format!(
                "{}/drives/{}/root/delta",
                emu.graph_url(),
                demo::DEMO_DRIVE_ID
            )
        );
    }
    let (_, _, e) = get(&emu, &t, &link).await;
    insta::assert_json_snapshot!("resync_error", normalize(&e, &emu.authority_url()));
    // A fresh enumeration works again; other drives are unaffected.
    let (s, _, _) = get(&emu, &t, "/me/drive/root/delta?token=latest").await;
    assert_eq!(s, 200);
    let (s, _, e) = get(&emu, &t, "/me/drive/root/delta(token='garbage')").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("invalidRequest"))
    );
    // A token of one drive is not accepted by another.
    let other = link.replace(demo::DEMO_DRIVE_ID, demo::GROUP_DRIVE_ID);
    assert_eq!(get(&emu, &t, &other).await.0, 400);
}

#[tokio::test]
async fn tokens_older_than_the_limit_answer_410() {
    let emu = start_with(
        EmulatorConfig::for_tests().with_delta_token_max_age(std::time::Duration::from_secs(2)),
    )
    .await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (_, _, page) = get(&emu, &t, "/me/drive/root/delta?token=latest").await;
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    assert_eq!(get(&emu, &t, &link).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (s, h, e) = get(&emu, &t, &link).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (410, Some("resyncRequired"))
    );
    assert!(h.contains_key("location"));
}
