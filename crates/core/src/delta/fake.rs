//! An in-memory drive that answers delta the way Graph does (docs/PROTOCOL.md §3.1–§3.4), for unit
//! tests of delta and the engine without HTTP. Test-only; it must never grow into a second
//! emulator.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::source::{DeltaPage, PushSubscription, SourceError, TargetSource};
use crate::classify::DeltaItem;

#[derive(Default)]
struct State {
    /// id → (item, version at which it last changed)
    items: BTreeMap<String, (DeltaItem, u64)>,
    version: u64,
    page_size: usize,
    /// Cursors below this version answer 410.
    expired_below: u64,
    /// Scripted outcomes of the next delta calls, in order (`None`: answer normally).
    faults: VecDeque<Option<SourceError>>,
    /// Every link or call made, for assertions.
    pub calls: Vec<String>,
    subscribe_result: Option<SourceError>,
    /// Subscriptions handed out next, in order; afterwards the last one is repeated.
    subscriptions: VecDeque<PushSubscription>,
    last_subscription: Option<PushSubscription>,
}

/// A fake drive; cheap to clone (shared state).
#[derive(Clone)]
pub struct FakeDrive {
    state: Arc<Mutex<State>>,
}

impl FakeDrive {
    pub fn new(page_size: usize) -> Self {
        let drive = Self {
            state: Arc::new(Mutex::new(State {
                page_size,
                ..Default::default()
            })),
        };
        drive.put(DeltaItem {
            id: "root".into(),
            name: Some("root".into()),
            is_folder: true,
            is_root: true,
            ..Default::default()
        });
        drive
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates or replaces an item (a new version of it).
    pub fn put(&self, item: DeltaItem) {
        let mut s = self.lock();
        s.version += 1;
        let v = s.version;
        s.items.insert(item.id.clone(), (item, v));
    }

    pub fn file(&self, id: &str, name: &str, parent: &str, ctag: &str) {
        self.put(DeltaItem {
            id: id.into(),
            name: Some(name.into()),
            parent_id: Some(parent.into()),
            ctag: Some(ctag.into()),
            etag: Some(format!("{ctag}-e")),
            modified_by_name: Some("Olga".into()),
            modified_by_id: Some("olga".into()),
            ..Default::default()
        });
    }

    pub fn folder(&self, id: &str, name: &str, parent: &str) {
        self.put(DeltaItem {
            id: id.into(),
            name: Some(name.into()),
            parent_id: Some(parent.into()),
            is_folder: true,
            ..Default::default()
        });
    }

    /// Business-style delete: a tombstone without a name.
    pub fn delete(&self, id: &str) {
        self.put(DeltaItem {
            id: id.into(),
            deleted: true,
            ..Default::default()
        });
    }

    /// Every cursor issued so far answers 410 from now on.
    pub fn expire_cursors(&self) {
        let mut s = self.lock();
        s.version += 1;
        s.expired_below = s.version;
    }

    /// Fails the next delta call with `e`.
    pub fn fail_next(&self, e: SourceError) {
        self.lock().faults.push_back(Some(e));
    }

    /// Lets the next call through, then fails the one after with `e`.
    pub fn fail_second(&self, e: SourceError) {
        let mut s = self.lock();
        s.faults.push_back(None);
        s.faults.push_back(Some(e));
    }

    /// Lets the next `n - 1` delta calls through, then fails the one after with `e`.
    pub fn fail_nth(&self, n: usize, e: SourceError) {
        let mut s = self.lock();
        for _ in 1..n {
            s.faults.push_back(None);
        }
        s.faults.push_back(Some(e));
    }

    pub fn set_subscribe_error(&self, e: Option<SourceError>) {
        self.lock().subscribe_result = e;
    }

    pub fn queue_subscription(&self, url: &str, expires_at: Option<chrono::DateTime<chrono::Utc>>) {
        self.lock().subscriptions.push_back(PushSubscription {
            notification_url: url.into(),
            expires_at,
        });
    }

    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    fn answer(&self, from: u64, skip: usize, enumerate: bool) -> DeltaPage {
        let s = self.lock();
        let mut changed: Vec<(&DeltaItem, u64)> = s
            .items
            .values()
            .filter(|(item, v)| *v > from && !(enumerate && item.deleted))
            .map(|(i, v)| (i, *v))
            .collect();
        changed.sort_by_key(|(_, v)| *v);
        let upto = s.version;
        let page: Vec<DeltaItem> = changed
            .iter()
            .skip(skip)
            .take(s.page_size)
            .map(|(i, _)| (*i).clone())
            .collect();
        let more = skip + page.len() < changed.len();
        DeltaPage {
            items: page,
            next_link: more.then(|| {
                format!(
                    "fake:next?from={from}&skip={}&enum={}",
                    skip + s.page_size,
                    u8::from(enumerate)
                )
            }),
            delta_link: (!more).then(|| format!("fake:delta?from={upto}")),
        }
    }
}

fn param(link: &str, key: &str) -> Option<u64> {
    link.split(['?', '&'])
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
}

impl TargetSource for FakeDrive {
    fn subscribe(&self) -> BoxFuture<'_, Result<PushSubscription, SourceError>> {
        let mut s = self.lock();
        s.calls.push("subscribe".into());
        let out = match s.subscribe_result.clone() {
            Some(e) => Err(e),
            None => {
                let next = s.subscriptions.pop_front();
                if next.is_some() {
                    s.last_subscription = next;
                }
                Ok(s.last_subscription.clone().unwrap_or(PushSubscription {
                    notification_url: "fake://push".into(),
                    expires_at: None,
                }))
            }
        };
        async move { out }.boxed()
    }

    fn enumerate<'a>(
        &'a self,
        location: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        let out = {
            let mut s = self.lock();
            s.calls
                .push(format!("enumerate {}", location.unwrap_or("-")));
            s.faults.pop_front().flatten()
        };
        let out = match out {
            Some(e) => Err(e),
            None => Ok(self.answer(0, 0, true)),
        };
        async move { out }.boxed()
    }

    fn page<'a>(&'a self, link: &'a str) -> BoxFuture<'a, Result<DeltaPage, SourceError>> {
        let fault = {
            let mut s = self.lock();
            s.calls.push(link.to_owned());
            s.faults.pop_front().flatten()
        };
        let from = param(link, "from").unwrap_or(0);
        let skip = param(link, "skip").unwrap_or(0) as usize;
        let expired = from < self.lock().expired_below && from != 0;
        let out = match fault {
            Some(e) => Err(e),
            None if expired => Err(SourceError::ResyncRequired {
                code: "resyncRequired".into(),
                location: None,
            }),
            None => Ok(self.answer(from, skip, param(link, "enum") == Some(1))),
        };
        async move { out }.boxed()
    }
}
