//! Percentiles and summaries of latency samples.
//!
//! Nearest-rank percentiles over the exact samples (no histograms, no interpolation), so a figure
//! in the report is always a latency that really happened. It must never invent a value for an
//! empty sample set: that is "not measured", not zero.

use std::time::Duration;

use serde::Serialize;

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// The nearest-rank percentile `p` (0..=100) of ascending `sorted`; `None` when empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Summarises samples; `None` when there are none.
pub fn summarize(samples: &[Duration]) -> Option<Summary> {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    Some(Summary {
        count: ms.len(),
        p50_ms: percentile(&ms, 50.0)?,
        p95_ms: percentile(&ms, 95.0)?,
        p99_ms: percentile(&ms, 99.0)?,
        max_ms: *ms.last()?,
        mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_are_real_samples() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50.0));
        assert_eq!(percentile(&sorted, 95.0), Some(95.0));
        assert_eq!(percentile(&sorted, 99.0), Some(99.0));
        assert_eq!(percentile(&sorted, 100.0), Some(100.0));
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn summary_sorts_and_converts_to_milliseconds() {
        let samples = [30, 10, 20, 40].map(Duration::from_millis);
        let s = summarize(&samples).unwrap();
        assert_eq!(s.count, 4);
        assert_eq!(s.p50_ms, 20.0);
        assert_eq!(s.p99_ms, 40.0);
        assert_eq!(s.max_ms, 40.0);
        assert_eq!(s.mean_ms, 25.0);
        assert!(summarize(&[]).is_none());
    }
}
