//! What a sync may hold in memory at once, bounded by design rather than by the luck of file
//! sizes. Downloads stream to disk (a buffer each); the two places where a document's bytes pile
//! up are budgets in bytes that tasks claim before they hold them:
//!
//! - **extraction**: a file being read in-process (the file itself for the readers that take it
//!   whole, their parse tree, the text) claims [`crate::extract::Extractor::memory_estimate`]
//!   of [`EXTRACTION_BYTES`]; a file larger than the whole budget waits until it runs alone;
//! - **the queue** between the crawl and the writer: a document claims its text's size of
//!   [`QUEUE_BYTES`] until the writer has taken it into a bulk batch (bounded by
//!   [`crate::sink::BulkOptions`]).
//!
//! ARCHITECTURE.md ("Memory budget") adds these up with the rest of a sync's memory.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// In-process extraction at once: two of the largest files the default 10 MiB download cap
/// lets through (about 32 MiB each), or many small ones.
pub const EXTRACTION_BYTES: u64 = 64 * MIB;
/// Documents between the crawl and the writer (the channel's 256 slots alone would allow
/// 256 documents of 2 MiB of text each).
pub const QUEUE_BYTES: u64 = 16 * MIB;

/// Threads of the blocking pool: file writes of downloads being spooled, extractions, the
/// local index's writes. Every thread keeps its stack and its allocator cache, so a pool grown
/// to one thread per download in flight (tokio's default allows 512) held about 100 MB more.
pub const BLOCKING_THREADS: usize = 16;

/// The runtime the CLI and the desktop app run syncs on: tokio's multi-threaded runtime with
/// at most [`BLOCKING_THREADS`] blocking threads.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
}

/// A sync's memory budgets.
#[derive(Debug, Clone)]
pub(crate) struct MemoryBudget {
    /// Files being read.
    pub extraction: Budget,
    /// Documents waiting for the writer.
    pub queue: Budget,
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            extraction: Budget::new(EXTRACTION_BYTES),
            queue: Budget::new(QUEUE_BYTES),
        }
    }
}

/// Bytes that tasks claim before they hold them, counted in KiB.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    permits: Arc<Semaphore>,
    total_kib: u32,
}

impl Budget {
    /// A budget of `bytes`.
    pub fn new(bytes: u64) -> Budget {
        let total_kib = u32::try_from(bytes.div_ceil(KIB))
            .unwrap_or(u32::MAX)
            .max(1);
        Budget {
            permits: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Waits until `bytes` fit beside what others hold, and holds them until the claim is
    /// dropped. A claim larger than the whole budget waits for all of it (it runs alone).
    pub async fn claim(&self, bytes: u64) -> Claim {
        let kib = u32::try_from(bytes.div_ceil(KIB))
            .unwrap_or(u32::MAX)
            .min(self.total_kib);
        if kib == 0 {
            return Claim(None);
        }
        // The semaphore is never closed.
        Claim(self.permits.clone().acquire_many_owned(kib).await.ok())
    }

    /// Bytes free now (rounded to KiB).
    #[cfg(test)]
    pub fn available(&self) -> u64 {
        self.permits.available_permits() as u64 * KIB
    }
}

/// Bytes held from a [`Budget`] until dropped.
#[derive(Debug)]
pub(crate) struct Claim(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn claims_wait_for_room_and_an_oversized_one_runs_alone() {
        let budget = Budget::new(10 * MIB);
        let a = budget.claim(6 * MIB).await;
        let b = budget.claim(4 * MIB).await;
        assert_eq!(budget.available(), 0);
        // Nothing fits until a claim is dropped.
        let waiting = tokio::time::timeout(Duration::from_millis(50), budget.claim(KIB)).await;
        assert!(waiting.is_err(), "a claim beyond the budget must wait");
        drop(a);
        let c = budget.claim(5 * MIB).await;
        drop((b, c));
        // Larger than the whole budget: takes all of it, and waits for all of it.
        let held = budget.claim(KIB).await;
        let huge = tokio::spawn({
            let budget = budget.clone();
            async move { budget.claim(100 * MIB).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !huge.is_finished(),
            "the oversized claim waits for everything"
        );
        drop(held);
        let huge = huge.await.unwrap();
        assert_eq!(budget.available(), 0);
        drop(huge);
        assert_eq!(budget.available(), 10 * MIB);
        // Nothing to hold, nothing to wait for.
        let _none = budget.claim(0).await;
        assert_eq!(budget.available(), 10 * MIB);
    }
}
