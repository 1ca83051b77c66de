//! A polling observer: what rclone (1 min) and onedriver (30 s) do, delta on a timer.
//!
//! It runs beside DriveWatch in the same run, on the same change stream, speaking plain HTTP
//! delta to the emulator (it is not DriveWatch's code, on purpose), and notes when each item
//! name was first seen. It must never follow anything but the links Graph hands out, never
//! write a token into an error, and always give every request a timeout.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::BenchError;

/// One page of a delta answer, only what an observer needs.
#[derive(Debug, Deserialize)]
pub struct DeltaPage {
    #[serde(default)]
    pub value: Vec<DeltaItem>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaItem {
    pub name: Option<String>,
}

/// A delta poller for one drive.
pub struct Poller {
    http: reqwest::Client,
    access_token: String,
    every: Duration,
    /// The drive polled; `None` is the signed-in user's own (`/me/drive`).
    drive: Option<String>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// What a poller saw: first-seen instants by item name, and how many delta requests it made.
#[derive(Debug, Default)]
pub struct Observed {
    pub first_seen: HashMap<String, Instant>,
    pub requests: u64,
    pub polls: u64,
}

impl Poller {
    pub fn new(access_token: String, every: Duration) -> Result<Self, BenchError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            access_token,
            every,
            drive: None,
        })
    }

    /// Polls the drive `drive_id` instead of the user's own.
    pub fn on_drive(mut self, drive_id: &str) -> Self {
        self.drive = Some(drive_id.to_owned());
        self
    }

    async fn page(&self, url: &str) -> Result<DeltaPage, BenchError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.access_token)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(BenchError::PollStatus {
                status: response.status().as_u16(),
            });
        }
        Ok(response.json().await?)
    }

    /// Follows nextLinks from `url` to the deltaLink, calling `seen` with each item name.
    async fn drain(
        &self,
        url: &str,
        observed: &mut Observed,
        mut seen: impl FnMut(&str, &mut Observed),
    ) -> Result<String, BenchError> {
        let mut url = url.to_owned();
        loop {
            let page = self.page(&url).await?;
            observed.requests += 1;
            for item in &page.value {
                if let Some(name) = &item.name {
                    seen(name, observed);
                }
            }
            match (page.next_link, page.delta_link) {
                (Some(next), _) => url = next,
                (None, Some(delta)) => return Ok(delta),
                (None, None) => return Err(BenchError::PollNoLink),
            }
        }
    }

    /// Starts at "now" (`token=latest`), then polls every `every` from `start`, until a poll
    /// that began after the instant published on `last_change` (the stream's last change).
    pub async fn run(
        self,
        graph_url: String,
        start: Instant,
        mut last_change: watch::Receiver<Option<Instant>>,
    ) -> Result<Observed, BenchError> {
        let mut observed = Observed::default();
        let root = match &self.drive {
            Some(id) => format!("drives/{id}"),
            None => "me/drive".to_owned(),
        };
        let mut link = self
            .drain(
                &format!("{graph_url}/{root}/root/delta?token=latest"),
                &mut observed,
                |_, _| {},
            )
            .await?;
        let mut tick = start + self.every;
        loop {
            tokio::time::sleep_until(tick).await;
            let began = Instant::now();
            link = self
                .drain(&link, &mut observed, |name, o| {
                    o.first_seen
                        .entry(name.to_owned())
                        .or_insert_with(Instant::now);
                })
                .await?;
            observed.polls += 1;
            let done = last_change
                .borrow_and_update()
                .is_some_and(|last| began >= last);
            if done {
                return Ok(observed);
            }
            tick += self.every;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_parse_with_either_link_and_items_without_names() {
        let page: DeltaPage = serde_json::from_str(
            r#"{"value":[{"id":"1","name":"a.txt","file":{}},{"id":"2","deleted":{"state":"deleted"}}],
                "@odata.nextLink":"http://127.0.0.1:1/v1.0/drives/x/root/delta(token='p2')"}"#,
        )
        .unwrap();
        assert_eq!(page.value.len(), 2);
        assert_eq!(page.value[0].name.as_deref(), Some("a.txt"));
        assert!(page.value[1].name.is_none());
        assert!(page.next_link.is_some() && page.delta_link.is_none());
        let last: DeltaPage =
            serde_json::from_str(r#"{"value":[],"@odata.deltaLink":"http://127.0.0.1:1/d"}"#)
                .unwrap();
        assert!(last.delta_link.is_some());
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let p = Poller::new("secret-access-token".into(), Duration::from_secs(30)).unwrap();
        assert!(!format!("{p:?}").contains("secret"));
    }
}
