//! Graph's drive endpoints: shapes (snapshots), addressing forms, mutations, access rules.

mod common;

use base64::Engine as _;
use common::*;
use graph_emulator::seed::demo;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn me_drive_and_item_shapes() {
    let emu = start().await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let base = emu.authority_url();
    let (s, _, me) = get(&emu, &t, "/me").await;
    assert_eq!(s, 200);
    insta::assert_json_snapshot!("me", normalize(&me, &base));
    let (s, _, drive) = get(&emu, &t, "/me/drive").await;
    assert_eq!(s, 200);
    assert_eq!(drive["id"], demo::DEMO_DRIVE_ID);
    insta::assert_json_snapshot!("me_drive", normalize(&drive, &base));
    let (s, _, item) = get(&emu, &t, "/me/drive/root:/Projects/Q3 Plan.txt").await;
    assert_eq!(s, 200);
    insta::assert_json_snapshot!("item_by_path", normalize(&item, &base));
    // The same item by id, under /drives/{id}.
    let id = item["id"].as_str().unwrap();
    let (s, _, by_id) = get(
        &emu,
        &t,
        &format!("/drives/{}/items/{id}", demo::DEMO_DRIVE_ID),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(by_id["name"], "Q3 Plan.txt");
    let (s, _, root) = get(&emu, &t, "/me/drive/root").await;
    assert_eq!(s, 200);
    assert!(root["root"].is_object());
    assert!(root["folder"]["childCount"].as_u64().unwrap() >= 4);
    // Group and site forms reach their drives.
    let (s, _, g) = get(&emu, &t, &format!("/groups/{}/drive", demo::GROUP_ID)).await;
    assert_eq!((s, g["id"].as_str()), (200, Some(demo::GROUP_DRIVE_ID)));
    let (s, _, sd) = get(
        &emu,
        &t,
        &format!(
            "/sites/{}/lists/{}/drive",
            demo::SITE_ID,
            demo::SITE_LIST_ID
        ),
    )
    .await;
    assert_eq!((s, sd["id"].as_str()), (200, Some(demo::SITE_DRIVE_ID)));
    assert_eq!(sd["driveType"], "documentLibrary");
    let (s, _, site) = get(&emu, &t, &format!("/sites/{}", demo::SITE_ID)).await;
    assert_eq!((s, site["name"].as_str()), (200, Some(demo::SITE_NAME)));
    let (s, _, sd) = get(&emu, &t, &format!("/sites/{}/drive", demo::SITE_ID)).await;
    assert_eq!((s, sd["id"].as_str()), (200, Some(demo::SITE_DRIVE_ID)));
    let (s, _, ud) = get(&emu, &t, &format!("/users/{}/drive", demo::DEMO_USER)).await;
    assert_eq!((s, ud["id"].as_str()), (200, Some(demo::DEMO_DRIVE_ID)));
    let (s, _, mine) = get(&emu, &t, "/me/drives").await;
    assert_eq!(s, 200);
    assert_eq!(mine["value"][0]["id"], demo::DEMO_DRIVE_ID);
    // Alex's own OneDrive is not shared with Megan.
    let (s, _, _) = get(&emu, &t, &format!("/users/{}/drive", demo::ALEX_USER)).await;
    assert_eq!(s, 403);
    let (s, _, e) = get(&emu, &t, "/me/unknown").await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("BadRequest")));
    assert_eq!(
        e["error"]["message"],
        "Resource not found for the segment 'unknown'."
    );
}

#[tokio::test]
async fn children_are_paged_with_next_links() {
    let emu = start().await;
    let (t, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    for n in 0..5 {
        emu.upload(
            demo::DEMO_USER,
            demo::DEMO_DRIVE_ID,
            &format!("Many/f{n}.txt"),
            "x",
        )
        .unwrap();
    }
    let mut url = format!("{}/me/drive/root:/Many:/children?$top=2", emu.graph_url());
    let mut names = vec![];
    let mut pages = 0;
    loop {
        let (s, _, page) = get(&emu, &t, &url).await;
        assert_eq!(s, 200, "{page}");
        if pages == 0 {
            insta::assert_json_snapshot!(
                "children_first_page",
                normalize(&page, &emu.authority_url())
            );
        }
        pages += 1;
        names.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string()),
        );
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
}

#[tokio::test]
async fn uploads_folders_renames_moves_and_deletes() {
    let emu = start().await;
    let (megan, _) = emu.issue_tokens(demo::DEMO_USER).unwrap();
    let (alex, _) = emu.issue_tokens(demo::ALEX_USER).unwrap();
    let drive = format!("/drives/{}", demo::DEMO_DRIVE_ID);

    // Alex uploads into Megan's shared drive by path: 201, then replacing: 200.
    let (s, _, created) = send(
        &emu,
        Method::PUT,
        &alex,
        &format!("{drive}/root:/Shared with team/notes.md:/content"),
        Some("v1".into()),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        created["lastModifiedBy"]["user"]["displayName"],
        "Alex Wilber"
    );
    assert_eq!(created["size"], 2);
    let id = created["id"].as_str().unwrap().to_string();
    let (parent_before, _) = (
        emu.item_id(demo::DEMO_DRIVE_ID, "Shared with team")
            .unwrap(),
        (),
    );
    let (_, _, folder_before) = get(&emu, &megan, &format!("{drive}/items/{parent_before}")).await;
    let (s, _, replaced) = send(
        &emu,
        Method::PUT,
        &megan,
        &format!("{drive}/items/{id}/content"),
        Some("v2!".into()),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(replaced["id"], id.as_str());
    assert_ne!(replaced["eTag"], created["eTag"]);
    assert_ne!(replaced["cTag"], created["cTag"]);
    assert_eq!(
        replaced["lastModifiedBy"]["user"]["displayName"],
        "Megan Bowen"
    );
    let (_, _, folder_after) = get(&emu, &megan, &format!("{drive}/items/{parent_before}")).await;
    assert_ne!(
        folder_before["eTag"], folder_after["eTag"],
        "a folder's eTag changes with a child"
    );
    assert_eq!(folder_before["cTag"], folder_after["cTag"]);

    // Upload under a parent id with a new name; conflictBehavior=fail refuses an existing name.
    let (s, _, _) = send(
        &emu,
        Method::PUT,
        &megan,
        &format!("{drive}/items/{parent_before}:/second.txt:/content"),
        Some("2".into()),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _, e) = send(
        &emu,
        Method::PUT,
        &megan,
        &format!("{drive}/items/{parent_before}:/second.txt:/content?@microsoft.graph.conflictBehavior=fail"),
        Some("2".into()),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("nameAlreadyExists"))
    );

    // Create a folder; the same name fails, rename picks a new one.
    let (s, f) = send_json(
        &emu,
        Method::POST,
        &megan,
        "/me/drive/root/children",
        json!({"name": "Archive", "folder": {}}),
    )
    .await;
    assert_eq!(s, 201, "{f}");
    assert_eq!(f["folder"]["childCount"], 0);
    let (s, e) = send_json(
        &emu,
        Method::POST,
        &megan,
        "/me/drive/root/children",
        json!({"name": "Archive", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("nameAlreadyExists"))
    );
    let (s, f2) = send_json(
        &emu,
        Method::POST,
        &megan,
        "/me/drive/root/children",
        json!({"name": "Archive", "folder": {}, "@microsoft.graph.conflictBehavior": "rename"}),
    )
    .await;
    assert_eq!((s, f2["name"].as_str()), (201, Some("Archive 1")));

    // Rename and move with PATCH (by parent id, then by parent path).
    let (s, r) = send_json(
        &emu,
        Method::PATCH,
        &alex,
        &format!("{drive}/items/{id}"),
        json!({"name": "renamed.md"}),
    )
    .await;
    assert_eq!((s, r["name"].as_str()), (200, Some("renamed.md")));
    assert_eq!(r["cTag"], replaced["cTag"], "a rename keeps the cTag");
    let archive = f["id"].as_str().unwrap();
    let (s, m) = send_json(
        &emu,
        Method::PATCH,
        &alex,
        &format!("{drive}/items/{id}"),
        json!({"parentReference": {"id": archive}}),
    )
    .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        m["parentReference"]["path"],
        format!("/drives/{}/root:/Archive", demo::DEMO_DRIVE_ID)
    );
    let (s, m) = send_json(
        &emu,
        Method::PATCH,
        &alex,
        &format!("{drive}/items/{id}"),
        json!({"parentReference": {"path": "/drive/root:/Projects"}}),
    )
    .await;
    assert_eq!(s, 200, "{m}");
    assert!(emu.exists(demo::DEMO_DRIVE_ID, "Projects/renamed.md"));

    // Delete: 204, then 404.
    let (s, _, _) = send(
        &emu,
        Method::DELETE,
        &alex,
        &format!("{drive}/items/{id}"),
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _, e) = get(&emu, &alex, &format!("{drive}/items/{id}")).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("itemNotFound"))
    );

    // Content download goes through a 302 to the download URL.
    let resp = http()
        .get(format!(
            "{}{drive}/root:/Welcome.txt:/content",
            emu.graph_url()
        ))
        .bearer_auth(&megan)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let loc = resp.headers()["location"].to_str().unwrap().to_string();
    let body = http().get(loc).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "Welcome to your OneDrive\n");
}

#[tokio::test]
async fn access_rules_and_error_shape() {
    let emu = start().await;
    let (sam, _) = emu.issue_tokens(demo::PERSONAL_USER).unwrap();
    let (s, _, e) = get(
        &emu,
        &sam,
        &format!("/drives/{}/root/children", demo::DEMO_DRIVE_ID),
    )
    .await;
    assert_eq!(s, 403);
    insta::assert_json_snapshot!("access_denied", normalize(&e, &emu.authority_url()));
    let (s, _, e) = get(&emu, &sam, "/me/drive/root:/nothing/here.txt").await;
    assert_eq!(s, 404);
    insta::assert_json_snapshot!("item_not_found", normalize(&e, &emu.authority_url()));
    let (s, _, e) = get(&emu, &sam, "/drives/no-such-drive").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (404, Some("itemNotFound"))
    );
    // Adele is not a member of Sam's personal drive, but is of the group's.
    let (adele, _) = emu.issue_tokens(demo::ADELE_USER).unwrap();
    assert_eq!(
        get(
            &emu,
            &adele,
            &format!("/drives/{}", demo::PERSONAL_DRIVE_ID)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        get(
            &emu,
            &adele,
            &format!("/groups/{}/drive/root/children", demo::GROUP_ID)
        )
        .await
        .0,
        200
    );
    // Files.Read cannot write; /me needs User.Read.
    let (ro, _) = emu
        .issue_tokens_with_scopes(demo::DEMO_USER, &["Files.Read"])
        .unwrap();
    assert_eq!(get(&emu, &ro, "/me/drive/root/children").await.0, 200);
    let (s, _, _) = send(
        &emu,
        Method::PUT,
        &ro,
        "/me/drive/root:/x.txt:/content",
        Some("x".into()),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, e) = get(&emu, &ro, "/me").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (403, Some("Authorization_RequestDenied"))
    );
    // The client-request-id is echoed.
    let resp = http()
        .get(format!("{}/me/drive/root:/nope", emu.graph_url()))
        .bearer_auth(&ro)
        .header("client-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["client-request-id"], "abc-123");
    let request_id = resp.headers()["request-id"].to_str().unwrap().to_string();
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["innerError"]["client-request-id"], "abc-123");
    assert_eq!(e["error"]["innerError"]["request-id"], request_id.as_str());
}

#[tokio::test]
async fn shares_resolve_pasted_urls() {
    let emu = start().await;
    let (t, _) = emu.issue_tokens(demo::ALEX_USER).unwrap();
    let (_, _, item) = get(
        &emu,
        &t,
        &format!("/drives/{}/root:/Brand/Guidelines.txt", demo::SITE_DRIVE_ID),
    )
    .await;
    let web_url = item["webUrl"].as_str().unwrap();
    assert!(
        web_url.contains("/sites/Marketing/Shared%20Documents/Brand/Guidelines.txt"),
        "{web_url}"
    );
    let share = |u: &str| {
        format!(
            "u!{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(u)
        )
    };
    let (s, _, via_share) = get(&emu, &t, &format!("/shares/{}/driveItem", share(web_url))).await;
    assert_eq!(s, 200, "{via_share}");
    assert_eq!(via_share["id"], item["id"]);
    assert_eq!(via_share["parentReference"]["driveId"], demo::SITE_DRIVE_ID);
    // The webUrl itself opens a page about the item.
    let page = http()
        .get(web_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Guidelines.txt") && page.contains("Use the blue logo"));
    // The library itself resolves to its root.
    let lib = format!(
        "{}/sites/Marketing/Shared%20Documents/",
        emu.authority_url()
    );
    let (s, _, root) = get(&emu, &t, &format!("/shares/{}/driveItem", share(&lib))).await;
    assert_eq!(s, 200);
    assert!(root["root"].is_object());
    // The personal user cannot resolve a work share.
    let (sam, _) = emu.issue_tokens(demo::PERSONAL_USER).unwrap();
    assert_eq!(
        get(&emu, &sam, &format!("/shares/{}/driveItem", share(web_url)))
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn the_people_page_lists_and_escapes() {
    // File names cannot hold `<>"` on OneDrive, but display names can, and `&'` are allowed.
    let mut seed = graph_emulator::Seed::default();
    seed.users[3].display_name = "<b>Adele</b>".into();
    let emu = start_with(graph_emulator::EmulatorConfig::for_tests().with_seed(seed)).await;
    emu.upload(
        demo::ADELE_USER,
        demo::DEMO_DRIVE_ID,
        "Tom & Jerry's.txt",
        "x",
    )
    .unwrap();
    let page = http()
        .get(emu.authority_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Megan Bowen"));
    assert!(page.contains("Tom &amp; Jerry&#39;s.txt"));
    assert!(page.contains("&lt;b&gt;Adele&lt;/b&gt;"));
    assert!(!page.contains("<b>Adele</b>"));
    // The page's form acts as the chosen user.
    let resp = http()
        .post(format!("{}/_emulator/ui", emu.authority_url()))
        .form(&[
            ("drive", demo::DEMO_DRIVE_ID),
            ("user", demo::ADELE_USER_ID),
            ("op", "rename"),
            ("path", "Welcome.txt"),
            ("value", "Hello.txt"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert!(emu.exists(demo::DEMO_DRIVE_ID, "Hello.txt"));
}
