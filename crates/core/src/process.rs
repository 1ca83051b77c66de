//! Process-wide settings every host of the engine applies at start.

/// One malloc arena for the whole process; call at the start of `main`, before any thread starts.
///
/// glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory
/// freed in one arena is not reused by another: with Tokio's workers and blocking threads that is
/// several partly used arenas for a process that is idle almost all the time. Measured on the
/// idle engine over an 11,000-item drive: 0.7 MiB (7 %) less anonymous memory; allocation
/// contention is irrelevant at the engine's load. Does nothing off glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn limit_malloc_arenas() {
    // SAFETY: mallopt only changes allocator tuning; hosts call it at the start of main, before
    // any other thread exists, so nothing allocates concurrently.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Does nothing off glibc.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_malloc_arenas() {}
