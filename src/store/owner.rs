//! One thread owning one append-only file.
//!
//! An append with an fsync takes milliseconds, sometimes far more on a busy disk. Done on a
//! runtime thread, or under a lock a runtime thread waits for, it stalls every chat whose task
//! shares that thread. So each journal hands its writes to a thread of its own, in order,
//! through a channel: callers only queue, and the ones that must know a write is on disk wait
//! for a reply (a `tokio::sync::oneshot`) without holding up anyone else.
//!
//! The thread ends when its owner is dropped, after every write queued before; dropping the
//! owner waits for that, so a file reopened afterwards (a restart in a test) sees everything
//! that was queued. The bot drops its journals at shutdown, when their queues are empty.

use std::{
    io,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::mpsc,
    thread::JoinHandle,
};

/// The thread that owns a file, and the queue of work for it.
pub struct FileOwner<W: Send + 'static> {
    /// `None` only while dropping, so the thread sees the queue close.
    queue: Option<mpsc::Sender<W>>,
    thread: Option<JoinHandle<()>>,
}

impl<W: Send + 'static> FileOwner<W> {
    /// Starts the thread `name`, which runs `apply` on each piece of work in the order it was
    /// queued. A panic in `apply` is logged and the thread carries on with the next piece:
    /// one bad write does not take every later one down with it.
    pub fn spawn(name: &str, mut apply: impl FnMut(W) + Send + 'static) -> io::Result<Self> {
        let (queue, work) = mpsc::channel::<W>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                for piece in work {
                    if catch_unwind(AssertUnwindSafe(|| apply(piece))).is_err() {
                        tracing::error!("a file write panicked; carrying on with the next one");
                    }
                }
            })?;
        Ok(FileOwner {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `work`; it comes back if the thread is gone.
    pub fn queue(&self, work: W) -> Result<(), W> {
        match &self.queue {
            Some(queue) => queue.send(work).map_err(|mpsc::SendError(work)| work),
            None => Err(work),
        }
    }
}

impl<W: Send + 'static> std::fmt::Debug for FileOwner<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileOwner")
            .field(
                "thread",
                &self.thread.as_ref().and_then(|t| t.thread().name()),
            )
            .finish_non_exhaustive()
    }
}

impl<W: Send + 'static> Drop for FileOwner<W> {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            // Only what was queued before is left to do: the thread ends right after it.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_in_order_and_a_panic_does_not_stop_the_rest() {
        let (done, finished) = mpsc::channel();
        let owner = FileOwner::spawn("test-owner", move |n: u32| {
            assert_ne!(n, 2, "the second piece fails");
            done.send(n).unwrap();
        })
        .unwrap();
        for n in 1..=4 {
            owner.queue(n).unwrap();
        }
        // Dropping waits for the queue to drain and ends the thread, which closes `done`.
        drop(owner);
        assert_eq!(finished.iter().collect::<Vec<_>>(), vec![1, 3, 4]);
    }
}
