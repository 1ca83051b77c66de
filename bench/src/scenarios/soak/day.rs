//! The soak's compressed day: how many changes fall in each second, and which change comes next.
//!
//! A day of a busy team library is squeezed into the soak's minutes: a working day's curve with a
//! night, a noisy rate, quiet spells with no change at all and bursts (a folder copied in, a
//! sync client catching up), by several people, of every kind (new files, edits, renames, moves,
//! deletes, folders renamed, removed and made again) across 1,000 folders. The number of files
//! stays near where it started, so an engine's item index has the same size at the end as at the
//! start and any growth is the engine's own. Everything is drawn from a seeded generator, so two
//! emulators given the same ops end up with the same drive. It must never read the clock.

use graph_emulator::EmulatorHandle;
use graph_emulator::seed::demo;

/// Top-level folders, each with [`SUBFOLDERS`] folders: 1,000 folders in all.
pub const TOP_FOLDERS: usize = 20;
pub const SUBFOLDERS: usize = 50;
/// Files the drive starts with; creations and deletions keep it near this.
pub const FILES: usize = 5_000;

/// The people who change the drive: its owner (own changes) and two colleagues.
pub const PEOPLE: [&str; 3] = [demo::DEMO_USER, demo::ALEX_USER, demo::ADELE_USER];

/// Relative activity of each hour of the compressed day, which starts at 08:00 so the first
/// quarter holds the morning's peak (the warm-up every later quarter is compared with) and the
/// last quarter is the night.
const HOURS_FROM_8: [f64; 24] = [
    1.6, 2.0, 2.0, 1.4, 1.2, 1.8, 2.0, 1.8, 1.4, 1.0, 0.7, 0.6, // 08:00-19:59
    0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, // 20:00-07:59
];

/// How many changes to make in each second of a `seconds`-long day, `total` in all.
/// Each hour has a quiet spell (a tenth of it, nothing at all), and each quarter of the day one
/// burst holding 2 % of the day's changes in 3 seconds.
pub fn schedule(seconds: usize, total: usize, rng: &mut fastrand::Rng) -> Vec<usize> {
    let seconds = seconds.max(24);
    let hour = seconds as f64 / 24.0;
    let mut weight: Vec<f64> = (0..seconds)
        .map(|s| HOURS_FROM_8[((s as f64 / hour) as usize).min(23)] * (0.5 + rng.f64()))
        .collect();
    for h in 0..24 {
        let start = (h as f64 * hour) as usize;
        let len = ((hour / 10.0) as usize).max(1);
        let at = start + rng.usize(0..((hour as usize).saturating_sub(len)).max(1));
        for w in weight.iter_mut().skip(at).take(len) {
            *w = 0.0;
        }
    }
    let bursts: usize = 4;
    let per_burst = total / 50;
    let spread = total.saturating_sub(per_burst * bursts);
    let sum: f64 = weight.iter().sum();
    let mut counts: Vec<usize> = Vec::with_capacity(seconds);
    let mut carried = 0.0;
    for w in &weight {
        // Rounding carried forward, so the seconds add up to the total exactly.
        let exact = w / sum * spread as f64 + carried;
        let n = exact.floor();
        carried = exact - n;
        counts.push(n as usize);
    }
    let made: usize = counts.iter().sum();
    if let Some(last) = counts.iter_mut().rev().find(|c| **c > 0) {
        *last += spread - made;
    }
    for q in 0..bursts {
        // Away from the quarter's edges, so each burst is inside its quarter.
        let at = q * seconds / bursts + seconds / (bursts * 4) + rng.usize(0..seconds / 16 + 1);
        for k in 0..3 {
            counts[(at + k).min(seconds - 1)] += per_burst / 3 + usize::from(k < per_burst % 3);
        }
    }
    counts
}

/// One change, as a person makes it through the emulator's control API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Upload { path: String },
    Edit { path: String },
    Rename { path: String, new_name: String },
    Move { path: String, new_parent: String },
    Delete { path: String },
    CreateFolder { path: String },
}

impl Op {
    /// Makes the change in `emu` as `user`.
    pub fn apply(&self, emu: &EmulatorHandle, user: &str, drive: &str) -> bool {
        let done = match self {
            Op::Upload { path } => emu.upload(user, drive, path, b"new".to_vec()),
            Op::Edit { path } => emu.edit(user, drive, path, b"edited".to_vec()),
            Op::Rename { path, new_name } => emu.rename(user, drive, path, new_name),
            Op::Move { path, new_parent } => emu.move_item(user, drive, path, new_parent),
            Op::Delete { path } => emu.delete(user, drive, path),
            Op::CreateFolder { path } => emu.create_folder(user, drive, path),
        };
        done.is_ok()
    }
}

struct File {
    folder: usize,
    name: String,
}

/// The drive as the day's people see it: which folders and files exist, by path.
pub struct Workload {
    folders: Vec<String>,
    files: Vec<File>,
    next: u64,
    /// A folder removed by the last op, to be made again by the next.
    recreate: Option<usize>,
}

impl Workload {
    /// The drive at the start: 1,000 folders (`team-TT/folder-FFF`) and [`FILES`] files.
    pub fn new() -> Workload {
        let folders = (0..TOP_FOLDERS * SUBFOLDERS)
            .map(|i| {
                format!(
                    "soak/team-{:02}/folder-{:03}",
                    i / SUBFOLDERS,
                    i % SUBFOLDERS
                )
            })
            .collect::<Vec<_>>();
        let files = (0..FILES)
            .map(|i| File {
                folder: i % folders.len(),
                name: format!("start-{i:05}.txt"),
            })
            .collect();
        Workload {
            folders,
            files,
            next: 0,
            recreate: None,
        }
    }

    /// The ops that build the starting drive (before anything is measured).
    pub fn seed_ops(&self) -> Vec<Op> {
        let mut ops: Vec<Op> = self
            .folders
            .iter()
            .map(|f| Op::CreateFolder { path: f.clone() })
            .collect();
        ops.extend(self.files.iter().map(|f| Op::Upload { path: self.path(f) }));
        ops
    }

    pub fn files(&self) -> usize {
        self.files.len()
    }

    fn path(&self, f: &File) -> String {
        format!("{}/{}", self.folders[f.folder], f.name)
    }

    fn fresh(&mut self, stem: &str, ext: &str) -> String {
        self.next += 1;
        format!("{stem}-{:06}.{ext}", self.next)
    }

    /// The next change, and the model updated as if it was made.
    pub fn next_op(&mut self, rng: &mut fastrand::Rng) -> Op {
        if let Some(i) = self.recreate.take() {
            return Op::CreateFolder {
                path: self.folders[i].clone(),
            };
        }
        // Creations and deletions lean toward keeping the file count where it started.
        let (create, delete) = if self.files.len() > FILES {
            (16, 24)
        } else {
            (24, 16)
        };
        let roll = rng.u32(0..100);
        if self.files.is_empty() || roll < create {
            let folder = rng.usize(0..self.folders.len());
            let name = self.fresh("new", "txt");
            let f = File { folder, name };
            let path = self.path(&f);
            self.files.push(f);
            return Op::Upload { path };
        }
        let pick = rng.usize(0..self.files.len());
        let roll = roll - create;
        if roll < delete {
            let f = self.files.swap_remove(pick);
            return Op::Delete {
                path: self.path(&f),
            };
        }
        let roll = roll - delete;
        match roll {
            // Edits: about a third of the day's changes.
            0..34 => Op::Edit {
                path: self.path(&self.files[pick]),
            },
            34..48 => {
                let path = self.path(&self.files[pick]);
                let new_name = self.fresh("renamed", "docx");
                self.files[pick].name = new_name.clone();
                Op::Rename { path, new_name }
            }
            48..58 => {
                let path = self.path(&self.files[pick]);
                let to = rng.usize(0..self.folders.len());
                self.files[pick].folder = to;
                Op::Move {
                    path,
                    new_parent: self.folders[to].clone(),
                }
            }
            58 => {
                // A folder renamed: every file in it changes path.
                let i = rng.usize(0..self.folders.len());
                let path = self.folders[i].clone();
                let new_name = self.fresh("folder", "d");
                let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                self.folders[i] = format!("{parent}/{new_name}");
                Op::Rename { path, new_name }
            }
            _ => {
                // A folder removed with its files, and made again (empty) next.
                let i = rng.usize(0..self.folders.len());
                let path = self.folders[i].clone();
                self.files.retain(|f| f.folder != i);
                let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
                let name = self.fresh("folder", "d");
                self.folders[i] = format!("{parent}/{name}");
                self.recreate = Some(i);
                Op::Delete { path }
            }
        }
    }

    /// Who makes the next change.
    pub fn person(rng: &mut fastrand::Rng) -> &'static str {
        PEOPLE[rng.usize(0..PEOPLE.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph_emulator::{Emulator, EmulatorConfig};

    #[test]
    fn the_day_adds_up_with_quiet_spells_and_bursts() {
        let mut rng = fastrand::Rng::with_seed(7);
        let counts = schedule(1200, 200_000, &mut rng);
        assert_eq!(counts.len(), 1200);
        assert_eq!(counts.iter().sum::<usize>(), 200_000);
        let quiet = counts.iter().filter(|&&c| c == 0).count();
        assert!(quiet >= 24 * 4, "quiet seconds: {quiet}");
        let mean = 200_000 / 1200;
        assert!(*counts.iter().max().unwrap() > 5 * mean);
        // Each quarter carries a burst; the night (last quarter) is the quietest.
        let quarter = |q: usize| counts[q * 300..(q + 1) * 300].iter().sum::<usize>();
        assert!(
            quarter(3) < quarter(0) && quarter(3) < quarter(1),
            "{counts:?}"
        );
        assert!(counts[..300].iter().any(|&c| c > 3 * mean));
        assert!(counts[900..].iter().any(|&c| c > 3 * mean));
        // A short development run still adds up.
        let short = schedule(120, 20_000, &mut rng);
        assert_eq!(short.iter().sum::<usize>(), 20_000);
    }

    /// Every generated op applies cleanly to an emulator that was given the same ops before,
    /// and the number of files stays near where it started.
    #[tokio::test]
    async fn every_op_applies_and_the_file_count_stays_level() {
        let emu = Emulator::start(EmulatorConfig::for_tests()).await.unwrap();
        let h = emu.handle();
        let drive = demo::DEMO_DRIVE_ID;
        let mut w = Workload::new();
        for op in w.seed_ops() {
            assert!(op.apply(&h, demo::DEMO_USER, drive), "{op:?}");
        }
        let mut rng = fastrand::Rng::with_seed(3);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..6_000 {
            let op = w.next_op(&mut rng);
            kinds.insert(std::mem::discriminant(&op));
            let who = Workload::person(&mut rng);
            assert!(op.apply(&h, who, drive), "{op:?}");
        }
        assert_eq!(kinds.len(), 6, "every kind of change is made");
        assert!(w.files().abs_diff(FILES) < FILES / 5, "{}", w.files());
    }
}
