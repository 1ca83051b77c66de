//! Delta sync for one target: follow pages from the saved cursor, classify, commit atomically.
//!
//! A run fetches every page first and commits nothing until the page carrying the deltaLink has
//! arrived; then the run's changes, its index updates and the new deltaLink go into ONE
//! transaction. A run that fails or is cancelled half-way leaves the store as it was, so the next
//! run starts again from the same cursor: nothing is lost and nothing is reported twice. When Graph
//! says the cursor is gone (410 / `syncStateNotFound`), the target is enumerated again and the
//! enumeration is diffed against the item index, so the changes that happened are still reported
//! (`docs/PROTOCOL.md §3.4`). This module must never follow a link it built itself (links are
//! opaque, `docs/PROTOCOL.md §3.1`) and never log one (they carry sync tokens).
//!
//! The item index stays in SQLite between runs: an incremental run loads only the entries its
//! items need (their own, their ancestors, a deleted folder's contents), and a resync compares its
//! enumeration with the stored index a page at a time (`history::ResyncDiff`), holding a page and
//! what changed. So neither an idle engine's memory nor a run's grows with the drive, and two
//! engines sharing one database each classify against what was last committed.

pub mod debounce;
#[cfg(test)]
pub(crate) mod fake;
pub mod graph_source;
pub mod source;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::classify::{self, ClassifyContext, DeltaItem};
use crate::history::{HistoryError, HistoryStore, ResyncDiff, RunCommit};
use crate::model::Change;
pub use source::{DeltaPage, PushSubscription, SourceError, TargetSource};

/// A defensive bound on one run's pages (200 items each: 20 million items).
const MAX_PAGES: u32 = 100_000;

/// Everything a delta run can fail with.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] HistoryError),
    /// A page carried neither a nextLink nor a deltaLink.
    #[error("a delta page ended without a next or delta link")]
    PageWithoutLink,
    #[error("a delta run went past {MAX_PAGES} pages")]
    TooManyPages,
    #[error("the history store's worker stopped")]
    StoreWorker,
    #[error("cancelled")]
    Cancelled,
}

impl DeltaError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled | Self::Source(SourceError::Cancelled))
    }
}

/// Which kind of run happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// First sync: the index was built, nothing reported.
    Baseline,
    /// From the saved cursor.
    Incremental,
    /// The cursor had expired; the enumeration was diffed against the index.
    Resync,
}

/// The outcome of one committed run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub kind: RunKind,
    /// As stored (with `seq`), in delta order.
    pub changes: Vec<Change>,
    pub pages: u32,
    pub items: u64,
}

/// Who the changes belong to, for classification.
#[derive(Debug, Clone)]
pub struct TargetIdentity {
    pub target: String,
    pub account: String,
    /// The signed-in user's id, to flag their own changes.
    pub account_user_id: Option<String>,
    /// Used for items that carry no driveId.
    pub drive_id: String,
}

/// Progress of a long (enumerating) run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub pages: u32,
    pub items: u64,
}

/// Delta state of one target. Owned by that target's task: runs never overlap.
pub struct DeltaSync {
    identity: TargetIdentity,
    source: Arc<dyn TargetSource>,
    store: HistoryStore,
    /// How many index entries the last run read (diagnostics; the entries themselves are
    /// dropped when the run ends).
    index_entries_loaded: usize,
}

impl std::fmt::Debug for DeltaSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaSync")
            .field("target", &self.identity.target)
            .finish_non_exhaustive()
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HistoryError> + Send + 'static,
) -> Result<T, DeltaError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| DeltaError::StoreWorker)?
        .map_err(DeltaError::from)
}

impl DeltaSync {
    pub fn new(
        identity: TargetIdentity,
        source: Arc<dyn TargetSource>,
        store: HistoryStore,
    ) -> Self {
        Self {
            identity,
            source,
            store,
            index_entries_loaded: 0,
        }
    }

    pub fn identity(&self) -> &TargetIdentity {
        &self.identity
    }

    /// How many item-index entries the last run read: none for a baseline, the run's items and
    /// their ancestors for an incremental run; for a resync, every entry its pages were compared
    /// with (the whole index, a page at a time, never held) plus those it classified.
    pub fn index_entries_loaded(&self) -> usize {
        self.index_entries_loaded
    }

    /// Runs one delta. `caught_up` marks the changes as found on start-up catch-up.
    /// `progress` is called after each page of an enumeration (baseline or resync).
    pub async fn run(
        &mut self,
        cancel: &CancellationToken,
        caught_up: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<RunReport, DeltaError> {
        let target = self.identity.target.clone();
        let store = self.store.clone();
        // Known in memory after this process's first read or commit: no blocking-thread trip
        // (a tenth of a millisecond and more) before a push-triggered run's request.
        let cursor = match store.known_cursor(&target) {
            Some(cursor) => Some(cursor),
            None => blocking(move || store.cursor(&target)).await?,
        };
        self.index_entries_loaded = 0;
        let Some(cursor) = cursor else {
            // Each page is reduced to index entries as it arrives: a big drive's first
            // enumeration never holds every item in full.
            let mut baseline = classify::Baseline::default();
            let mut drive_id = None;
            let (delta_link, p) = self
                .fetch(None, cancel, Some(progress), &mut |items| {
                    note_drive_id(&mut drive_id, &items);
                    baseline.add_page(items);
                })
                .await?;
            self.learn_drive_id(drive_id);
            self.commit(Vec::new(), baseline.finish(), delta_link, None)
                .await?;
            return Ok(RunReport {
                kind: RunKind::Baseline,
                changes: Vec::new(),
                pages: p.pages,
                items: p.items,
            });
        };
        let mut items = Vec::new();
        let mut drive_id = None;
        let fetched = self
            .fetch(Some(&cursor), cancel, None, &mut |page| {
                note_drive_id(&mut drive_id, &page);
                items.extend(page);
            })
            .await;
        match fetched {
            Ok((delta_link, p)) => {
                self.learn_drive_id(drive_id);
                // Reading the index, classifying and committing in one trip to a blocking
                // thread: each trip costs the change-to-toast path a tenth of a millisecond and
                // more, and classifying a run's items is quick. Only what classifying these
                // items reads, as committed at `cursor`: if another engine commits meanwhile,
                // the commit is refused (the cursor moved).
                let store = self.store.clone();
                let identity = self.identity.clone();
                let now = Utc::now();
                let (loaded, changes) = blocking(move || {
                    let index = store.load_index_for(&identity.target, &items)?;
                    let loaded = index.len();
                    let context = context_of(&identity, now, caught_up);
                    let out = classify::classify(&index, items, &context);
                    drop(index);
                    let changes = store.commit_run_from(
                        RunCommit {
                            target: &identity.target,
                            changes: &out.changes,
                            index: &out.index,
                            delta_link: &delta_link,
                        },
                        Some(&cursor),
                    )?;
                    Ok((loaded, changes))
                })
                .await?;
                self.index_entries_loaded = loaded;
                Ok(RunReport {
                    kind: RunKind::Incremental,
                    changes,
                    pages: p.pages,
                    items: p.items,
                })
            }
            Err(DeltaError::Source(SourceError::ResyncRequired { code, location })) => {
                drop(items);
                tracing::info!(target = %self.identity.target, %code, "delta cursor expired: enumerating again");
                let (out, delta_link, p, generation) = self
                    .resync(location.as_deref(), cancel, caught_up, progress)
                    .await?;
                let changes = match self
                    .commit(out.changes, out.index, delta_link, Some(&cursor))
                    .await
                {
                    Ok(changes) => changes,
                    Err(e) => {
                        self.abandon(generation).await;
                        return Err(e);
                    }
                };
                Ok(RunReport {
                    kind: RunKind::Resync,
                    changes,
                    pages: p.pages,
                    items: p.items,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Enumerates the target again and diffs it against the stored index page by page
    /// ([`ResyncDiff`]): the store compares each page (and marks what it lists) while the next
    /// one is fetched, only items that differ from their entry are kept, and at the end the
    /// unlisted entries are the deletions. Memory stays at two pages plus what changed, whatever
    /// the size of the drive. Nothing but the run's marks is stored here; they go with the run's
    /// commit, or now if the run fails. Returns the marks' generation with the outcome.
    async fn resync(
        &mut self,
        location: Option<&str>,
        cancel: &CancellationToken,
        caught_up: bool,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(classify::Classified, String, Progress, i64), DeltaError> {
        let mut start = location;
        loop {
            let target = self.identity.target.clone();
            let store = self.store.clone();
            let diff = blocking(move || store.begin_resync(&target)).await?;
            let generation = diff.generation();
            let mut pipe = Pipe {
                idle: Some(diff),
                busy: None,
            };
            let fetched = self
                .enumerate_into(&mut pipe, start, cancel, progress)
                .await;
            // The page under comparison ends before anything else happens to the marks.
            let settled = pipe.settle().await;
            match fetched.and_then(|f| settled.map(|()| f)) {
                // A stale Location is no reason to give up: enumerate from scratch.
                Err(DeltaError::Source(SourceError::ResyncRequired { .. })) if start.is_some() => {
                    self.abandon(generation).await;
                    start = None;
                }
                Err(e) => {
                    self.abandon(generation).await;
                    return Err(e);
                }
                Ok((delta_link, drive_id, p)) => {
                    let Some(mut diff) = pipe.idle.take() else {
                        self.abandon(generation).await;
                        return Err(DeltaError::StoreWorker);
                    };
                    let outcome = match blocking(move || diff.finish()).await {
                        Ok(outcome) => outcome,
                        Err(e) => {
                            self.abandon(generation).await;
                            return Err(e);
                        }
                    };
                    self.learn_drive_id(drive_id);
                    self.index_entries_loaded = usize::try_from(outcome.compared)
                        .unwrap_or(usize::MAX)
                        + outcome.index.len();
                    let out = classify::classify(
                        &outcome.index,
                        outcome.items,
                        &context_of(&self.identity, Utc::now(), caught_up),
                    );
                    return Ok((out, delta_link, p, generation));
                }
            }
        }
    }

    /// Follows an enumeration's pages into `pipe`; returns its deltaLink, the first drive id
    /// its items carry and the progress.
    async fn enumerate_into(
        &self,
        pipe: &mut Pipe,
        location: Option<&str>,
        cancel: &CancellationToken,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(String, Option<String>, Progress), DeltaError> {
        let mut paging = Paging::new(Start::Enumerate(location));
        let mut drive_id = None;
        loop {
            let page = self.next_page(&mut paging, cancel).await?;
            note_drive_id(&mut drive_id, &page.items);
            pipe.add(page.items).await?;
            progress(paging.progress);
            if let Some(delta_link) = paging.turn(page.next_link, page.delta_link)? {
                return Ok((delta_link, drive_id, paging.progress));
            }
        }
    }

    /// Drops a resync's marks once it will not commit; should that fail, the target's next
    /// commit removes them.
    async fn abandon(&self, generation: i64) {
        let store = self.store.clone();
        let target = self.identity.target.clone();
        if let Err(e) = blocking(move || store.abandon_resync(&target, generation)).await {
            tracing::warn!(target = %self.identity.target, error = %e, "a failed resync's marks stay until the next commit");
        }
    }

    /// A target named without its drive id (`/me/drive`) takes it from the first item that
    /// carries one, for changes (e.g. personal deletes) that do not.
    fn learn_drive_id(&mut self, found: Option<String>) {
        if self.identity.drive_id.is_empty() {
            if let Some(id) = found {
                self.identity.drive_id = id;
            }
        }
    }

    async fn fetch(
        &self,
        cursor: Option<&str>,
        cancel: &CancellationToken,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
        sink: &mut (dyn FnMut(Vec<DeltaItem>) + Send),
    ) -> Result<(String, Progress), DeltaError> {
        match cursor {
            Some(link) => {
                self.fetch_from(Start::Link(link), cancel, progress, sink)
                    .await
            }
            None => {
                self.fetch_from(Start::Enumerate(None), cancel, progress, sink)
                    .await
            }
        }
    }

    /// Follows pages until a deltaLink, handing each page's items (not yet deduplicated) to
    /// `sink` as it arrives; returns the deltaLink.
    async fn fetch_from(
        &self,
        start: Start<'_>,
        cancel: &CancellationToken,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
        sink: &mut (dyn FnMut(Vec<DeltaItem>) + Send),
    ) -> Result<(String, Progress), DeltaError> {
        let mut paging = Paging::new(start);
        loop {
            let page = self.next_page(&mut paging, cancel).await?;
            sink(page.items);
            if let Some(report) = progress {
                report(paging.progress);
            }
            if let Some(delta_link) = paging.turn(page.next_link, page.delta_link)? {
                return Ok((delta_link, paging.progress));
            }
        }
    }

    /// The next page of a run, or `Cancelled` as soon as `cancel` fires.
    async fn next_page(
        &self,
        paging: &mut Paging<'_>,
        cancel: &CancellationToken,
    ) -> Result<DeltaPage, DeltaError> {
        if paging.progress.pages >= MAX_PAGES {
            return Err(DeltaError::TooManyPages);
        }
        let fut = match (&paging.next, &paging.start) {
            (Some(link), _) => self.source.page(link),
            (None, Start::Link(link)) => self.source.page(link),
            (None, Start::Enumerate(location)) => self.source.enumerate(*location),
        };
        let page = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(DeltaError::Cancelled),
            page = fut => page?,
        };
        paging.progress.pages += 1;
        paging.progress.items += page.items.len() as u64;
        Ok(page)
    }

    async fn commit(
        &self,
        changes: Vec<Change>,
        update: classify::IndexUpdate,
        delta_link: String,
        started_from: Option<&str>,
    ) -> Result<Vec<Change>, DeltaError> {
        let store = self.store.clone();
        let target = self.identity.target.clone();
        let started_from = started_from.map(str::to_owned);
        blocking(move || {
            store.commit_run_from(
                RunCommit {
                    target: &target,
                    changes: &changes,
                    index: &update,
                    delta_link: &delta_link,
                },
                started_from.as_deref(),
            )
        })
        .await
    }
}

fn context_of(
    identity: &TargetIdentity,
    now: DateTime<Utc>,
    caught_up: bool,
) -> ClassifyContext<'_> {
    ClassifyContext {
        account: &identity.account,
        account_user_id: identity.account_user_id.as_deref(),
        target: &identity.target,
        drive_id: &identity.drive_id,
        now,
        caught_up,
    }
}

/// Remembers the first drive id a page's items carry.
fn note_drive_id(found: &mut Option<String>, items: &[DeltaItem]) {
    if found.is_none() {
        *found = items.iter().find_map(|i| i.drive_id.clone());
    }
}

enum Start<'a> {
    Link(&'a str),
    Enumerate(Option<&'a str>),
}

/// Where a run is in its pages.
struct Paging<'a> {
    start: Start<'a>,
    /// The nextLink to follow, once the first page has come.
    next: Option<String>,
    progress: Progress,
}

impl<'a> Paging<'a> {
    fn new(start: Start<'a>) -> Self {
        Self {
            start,
            next: None,
            progress: Progress { pages: 0, items: 0 },
        }
    }

    /// After a page: its deltaLink when it was the last one, else `None` and its nextLink is
    /// followed next.
    fn turn(
        &mut self,
        next_link: Option<String>,
        delta_link: Option<String>,
    ) -> Result<Option<String>, DeltaError> {
        if delta_link.is_some() {
            return Ok(delta_link);
        }
        match next_link {
            Some(link) => {
                self.next = Some(link);
                Ok(None)
            }
            None => Err(DeltaError::PageWithoutLink),
        }
    }
}

/// A resync's diff and the page the store is comparing, if any: the next page is fetched
/// meanwhile, and pages reach the diff strictly in order.
struct Pipe {
    idle: Option<ResyncDiff>,
    busy: Option<tokio::task::JoinHandle<(ResyncDiff, Result<(), HistoryError>)>>,
}

impl Pipe {
    /// Waits for the page under comparison, if any.
    async fn settle(&mut self) -> Result<(), DeltaError> {
        if let Some(busy) = self.busy.take() {
            let (diff, done) = busy.await.map_err(|_| DeltaError::StoreWorker)?;
            self.idle = Some(diff);
            done?;
        }
        Ok(())
    }

    /// Hands a page to the store once the previous one is compared.
    async fn add(&mut self, items: Vec<DeltaItem>) -> Result<(), DeltaError> {
        self.settle().await?;
        let mut diff = self.idle.take().ok_or(DeltaError::StoreWorker)?;
        self.busy = Some(tokio::task::spawn_blocking(move || {
            let done = diff.add_page(items);
            (diff, done)
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
